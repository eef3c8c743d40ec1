package httpapi

import "github.com/lmn/aggregator/vehicle"

// Summary is v in the VehicleSummary shape partners receive, prices in
// dollars at rate won per dollar. It is the API's own rendering, exported
// so that `aggregator extract` prints exactly what the API would serve.
func Summary(v *vehicle.Vehicle, rate float64) any { return summary(v, rate) }

// Detail is v in the Vehicle shape of GET /v1/vehicles/{id}.
func Detail(v *vehicle.Vehicle, rate float64) any { return detail(v, rate) }
