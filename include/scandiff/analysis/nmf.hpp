// Non-negative matrix factorisation X ≈ W·H with W, H ≥ 0, minimising ½||X − W·H||²_F, with the
// two solvers, initialisations and stopping rules of scikit-learn's NMF (1.4) so results can
// be compared with it: solver "mu" (Lee–Seung multiplicative updates, beta_loss="frobenius")
// and "cd" (HALS coordinate descent, no regularisation, no shuffling).
// X is positions × features (e.g. radial profiles, one row per scan position); W is
// positions × k (coefficient maps), H is k × features (component profiles).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "scandiff/analysis/dense_matrix.hpp"

namespace scandiff::analysis {

enum class NmfSolver { multiplicative, coordinate_descent };  // "mu", "cd"
enum class NmfInit { nndsvd, nndsvda, nndsvdar, random };

// "mu" | "cd"; "nndsvd" | "nndsvda" | "nndsvdar" | "random". Throw InvalidArgument otherwise.
NmfSolver parse_nmf_solver(std::string_view name);
NmfInit parse_nmf_init(std::string_view name);
std::string_view name_of(NmfSolver solver);
std::string_view name_of(NmfInit init);

struct NmfOptions {
  int components = 2;
  NmfSolver solver = NmfSolver::multiplicative;
  NmfInit init = NmfInit::nndsvda;
  int max_iter = 200;
  // mu: stop when (previous error − error) / initial error < tol, tested every 10 iterations;
  // cd: stop when the projected-gradient violation / the first iteration's violation <= tol.
  // tol = 0 runs max_iter iterations.
  double tol = 1e-4;
  std::uint64_t seed = 0;  // random and nndsvdar initialisation (std::mt19937_64)
  int threads = 0;         // 0 = all cores; results are identical for any thread count
};

struct NmfFactors {
  DenseMatrix w;  // positions × k
  DenseMatrix h;  // k × features
};

struct NmfResult {
  DenseMatrix w;                    // positions × k, coefficient maps
  DenseMatrix h;                    // k × features, component profiles
  double reconstruction_error = 0;  // ||X − W·H||_F (scikit-learn's reconstruction_err_)
  int iterations = 0;
  bool converged = false;  // the tolerance test stopped it before max_iter
};

// scikit-learn's initialisations: nndsvd (Boutsidis & Gallopoulos, from the k leading singular
// triplets, entries below 1e-6 set to 0), nndsvda (those zeros set to mean(X)), nndsvdar (to
// |mean(X)·N(0,1)/100|), random (|sqrt(mean(X)/k)·N(0,1)|, H drawn before W). scikit-learn uses
// a randomized SVD and numpy's generator: the SVD-based starts agree with it to the SVD's
// accuracy, the random ones only in distribution.
NmfFactors nmf_initialize(const DenseMatrix& x, int components, NmfInit init, std::uint64_t seed);

// Factorises non-negative X. Throws InvalidArgument for a negative or non-finite entry, an empty
// X, components < 1 or > min(rows, cols) with an SVD initialisation, max_iter < 1 or tol < 0.
NmfResult nmf(const DenseMatrix& x, const NmfOptions& options);

struct NmfScanPoint {
  int components = 0;
  double reconstruction_error = 0;
  int iterations = 0;
};

// Runs nmf() for k = 1 .. max_components (options.components ignored): the reconstruction
// error against k, to choose k where the error stops falling.
std::vector<NmfScanPoint> nmf_error_scan(const DenseMatrix& x, int max_components, NmfOptions options);

}  // namespace scandiff::analysis
