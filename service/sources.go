package service

import (
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/sources/kcar"
)

// The sources this service reads, one line each. Within a kind, the order
// is the order of lists and headers, and the earlier dealer is preferred
// when two list the same car (Encar first: its ads have a detail page).
var _ = registry.Register(
	glovis.Source,
	kcar.Source,
	encar.Source,
	danawa.Source,
)
