// Robust statistics shared by detectors of outliers (bad pixels, origin-fit outliers).
#pragma once

#include <span>

namespace scandiff::analysis {

// The median of `values` (reordered in place); for an even count the mean of the two middle
// values (numpy's rule). NaN for an empty span.
double median_inplace(std::span<double> values);

// 1.4826 · median(|v − median(v)|): the standard deviation of normally distributed values,
// estimated without being pulled by outliers. `values` is reordered in place. 0 for an empty span.
double robust_sigma_inplace(std::span<double> values);

}  // namespace scandiff::analysis
