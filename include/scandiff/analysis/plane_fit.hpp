// Least-squares plane through a 2D map (ry, rx):  v(ry, rx) ≈ c0 + c_ry·ry + c_rx·rx,
// over the finite values (NaN and ±inf are left out), as py4DSTEM's fit_origin with
// fitfunction="plane" (its [0, 1]-normalised coordinates span the same planes).
#pragma once

#include "scandiff/core/array.hpp"

namespace scandiff::analysis {

struct Plane {
  double c0 = 0, c_ry = 0, c_rx = 0;
  double at(double ry, double rx) const { return c0 + c_ry * ry + c_rx * rx; }
};

// Throws InvalidArgument unless `map` is 2D with at least three finite values not on a line.
Plane fit_plane(const Array& map);

// map − plane, as a new float64 array.
Array subtract_plane(const Array& map, const Plane& plane);

}  // namespace scandiff::analysis
