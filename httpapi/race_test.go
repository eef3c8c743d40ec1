//go:build race

package httpapi_test

// raceDetector is set when the tests run under -race, which makes every
// request several times slower: the longest tests then do less of the same
// work, so that CI's race run stays within its budget on two busy cores.
const raceDetector = true
