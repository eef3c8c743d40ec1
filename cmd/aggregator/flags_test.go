package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadFlagIsOneLine: a mistyped flag is named in one line with a hint,
// not buried above the command's whole usage.
func TestBadFlagIsOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-nope"}, {"breakers", "-nope"}, {"breakers", "-admin", "http://127.0.0.1:1", "force-open", "encar", "-nope"},
		{"extract", "-nope"}, {"sim", "-nope"}, {"load", "-nope"}, {"naive", "-nope"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, noenv, &stdout, &stderr)
		require.Error(t, err, "%v", args)
		msg := err.Error()
		assert.NotContains(t, msg, "\n", "%v: one line", args)
		assert.Contains(t, msg, "-nope", "%v: names the flag", args)
		assert.Contains(t, msg, `"aggregator `+args[0]+` -h"`, "%v: says where the flags are", args)
		assert.Empty(t, stderr.String(), "%v: nothing else printed", args)
	}
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"breakers", "-h"}, noenv, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage:", "-h still prints the usage")
	assert.Contains(t, stderr.String(), "-admin")
}

// TestBreakersFleetFailsOnAnUnreadableReplica: with -admin A,B the table
// shows every replica, and the command fails when any could not be read,
// so a script does not take a partial view for a healthy fleet.
func TestBreakersFleetFailsOnAnUnreadableReplica(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"breakers": [{"source": "encar", "state": "closed"}]}`))
	}))
	t.Cleanup(good.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gone := "http://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now

	for _, extra := range [][]string{nil, {"-json"}} {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"breakers", "-admin", good.URL + "," + gone}, extra...), noenv, &out, &out)
		require.Error(t, err, "%v", extra)
		assert.Contains(t, err.Error(), "1 of 2 replicas")
		assert.Contains(t, err.Error(), strings.TrimPrefix(gone, "http://"))
		assert.Contains(t, out.String(), good.URL, "the replica that answered is still shown")
		assert.Contains(t, out.String(), "encar")

		out.Reset()
		require.NoError(t, run(context.Background(), append([]string{"breakers", "-admin", good.URL + "," + good.URL}, extra...), noenv, &out, &out), "%v", extra)
	}
}
