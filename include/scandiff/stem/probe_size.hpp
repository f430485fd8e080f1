// Radius and centre of the central disk (a vacuum probe image, or the max/mean diffraction
// pattern), as py4DSTEM's get_probe_size defines them (stem-algorithms.md §3):
//   t_i  = thresholds, n values evenly spaced from t_lower to t_upper (np.linspace);
//   r_i  = sqrt(#{pixels with I > t_i·max(I)} / π)                      (area -> radius)
//   g    = np.gradient(r) (central differences, one-sided at the ends);
//   keep the i with g_i <= 0 and g_i >= 2·median(g): the range where r hardly depends on t;
//   radius = mean of the kept r_i; t̄ = mean of the kept t_i;
//   centre = centre of mass of I·[I > t̄·max(I)]: (Σ I·qy, Σ I·qx) / Σ I over those pixels.
// Axes: qy = row, qx = column; py4DSTEM returns (r, x0, y0) with x0 the row, i.e. our qy.
#pragma once

#include "scandiff/core/array.hpp"

namespace scandiff::stem {

struct ProbeSize {
  double radius_px = 0;
  double center_qy_px = 0;
  double center_qx_px = 0;
  double threshold = 0;  // t̄, the mean kept threshold (fraction of the max)
};

struct ProbeSizeOptions {
  double threshold_lower = 0.01;
  double threshold_upper = 0.99;
  int thresholds = 100;
};

// `image` is a 2D (qy, qx) array of any numeric dtype. Throws InvalidArgument for a bad image
// or options (named), and when no threshold range is stable or the image max is not positive.
ProbeSize measure_probe_size(const Array& image, const ProbeSizeOptions& options = {});

}  // namespace scandiff::stem
