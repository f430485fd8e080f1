// Linear least squares, min_x ||A·x − b||², by Householder QR (no normal equations, so the
// conditioning is that of A, not A^T·A). Small dense problems: surface fits, lattice fits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace scandiff::analysis {

// A is rows × cols, row-major (A[i·cols + j]), rows >= cols >= 1; b has `rows` values.
// Returns x (cols values). Throws InvalidArgument when the shapes disagree or A is rank
// deficient (a column of R below 1e-12 times the largest column norm of A): e.g. a surface
// model with more terms than the scan has independent positions.
std::vector<double> least_squares(std::span<const double> a, std::int64_t rows, std::int64_t cols,
                                  std::span<const double> b);

}  // namespace scandiff::analysis
