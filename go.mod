module github.com/lmn/aggregator

go 1.26.8

require (
	github.com/PuerkitoBio/goquery v1.13.0
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/stretchr/testify v1.8.4
	golang.org/x/sync v0.24.0
)

require (
	github.com/andybalholm/cascadia v1.3.4 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
