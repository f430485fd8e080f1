// Bindings of scandiff/analysis: the matrix factorisations and clustering over a dense
// positions x features matrix (NMF as scikit-learn's, PCA, k-means) and per-class mean spectra;
// FFTW planning and wisdom.
#include <filesystem>
#include <optional>

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/analysis/class_means.hpp"
#include "scandiff/analysis/fft_planning.hpp"
#include "scandiff/analysis/kmeans.hpp"
#include "scandiff/analysis/nmf.hpp"
#include "scandiff/analysis/pca.hpp"

namespace scandiff::python {

namespace {

using analysis::DenseMatrix;

// A (rows, cols) numpy-convertible matrix as a DenseMatrix (float64 copy, C order).
DenseMatrix matrix_of(nb::handle x) {
  const Array a = copy_array(x).astype(DType::f64);
  if (a.rank() != 2) throw InvalidArgument("expected a 2D (positions, features) matrix");
  DenseMatrix m(a.shape(0), a.shape(1));
  std::copy_n(a.data<double>(), a.size(), m.values.data());
  return m;
}

nb::object numpy_of(const DenseMatrix& m) {
  Array a(DType::f64, {m.rows, m.cols});
  std::copy(m.values.begin(), m.values.end(), a.data<double>());
  return to_numpy(a);
}

analysis::NmfOptions nmf_options(int components, const std::string& solver, const std::string& init, int max_iter,
                                 double tol, std::uint64_t seed, int threads) {
  analysis::NmfOptions o;
  o.components = components;
  o.solver = analysis::parse_nmf_solver(solver);
  o.init = analysis::parse_nmf_init(init);
  o.max_iter = max_iter;
  o.tol = tol;
  o.seed = seed;
  o.threads = threads;
  return o;
}

}  // namespace

void bind_analysis(nb::module_& m) {
  m.def("set_fft_planning", [](const std::string& name) { analysis::set_fft_planning(analysis::parse_fft_planning(name)); },
        nb::arg("planning"), "estimate (default), measure or patient: how carefully FFTW plans new transforms");
  m.def("fft_planning", [] { return std::string(analysis::fft_planning_name(analysis::fft_planning())); });
  m.def("import_fftw_wisdom", &analysis::import_fftw_wisdom, nb::arg("path"),
        "add the plans in an FFTW wisdom file; False if there is no such file");
  m.def("export_fftw_wisdom", &analysis::export_fftw_wisdom, nb::arg("path"),
        "save every FFTW plan measured or imported so far to a wisdom file");
  m.def("nmf", [](nb::handle x, int components, const std::string& solver, const std::string& init, int max_iter,
                  double tol, std::uint64_t seed, int threads) {
    const DenseMatrix xm = matrix_of(x);
    const analysis::NmfOptions o = nmf_options(components, solver, init, max_iter, tol, seed, threads);
    analysis::NmfResult r;
    {
      nb::gil_scoped_release release;
      r = analysis::nmf(xm, o);
    }
    nb::dict d;
    d["w"] = numpy_of(r.w);
    d["h"] = numpy_of(r.h);
    d["reconstruction_error"] = r.reconstruction_error;
    d["iterations"] = r.iterations;
    d["converged"] = r.converged;
    return d;
  }, nb::arg("x"), nb::arg("components") = 2, nb::arg("solver") = "mu", nb::arg("init") = "nndsvda",
        nb::arg("max_iter") = 200, nb::arg("tol") = 1e-4, nb::arg("seed") = 0, nb::arg("threads") = 0,
        "X (positions, features) ~ W (positions, k) H (k, features), W, H >= 0 (scikit-learn's NMF, Frobenius)");
  m.def("nmf_error_scan", [](nb::handle x, int max_components, const std::string& solver, const std::string& init,
                             int max_iter, double tol, std::uint64_t seed, int threads) {
    const DenseMatrix xm = matrix_of(x);
    const analysis::NmfOptions o = nmf_options(1, solver, init, max_iter, tol, seed, threads);
    std::vector<analysis::NmfScanPoint> scan;
    {
      nb::gil_scoped_release release;
      scan = analysis::nmf_error_scan(xm, max_components, o);
    }
    nb::list out;
    for (const auto& p : scan) out.append(nb::make_tuple(p.components, p.reconstruction_error, p.iterations));
    return out;
  }, nb::arg("x"), nb::arg("max_components"), nb::arg("solver") = "mu", nb::arg("init") = "nndsvda",
        nb::arg("max_iter") = 200, nb::arg("tol") = 1e-4, nb::arg("seed") = 0, nb::arg("threads") = 0,
        "[(k, reconstruction_error, iterations)] for k = 1 .. max_components");
  m.def("pca", [](nb::handle x, int components, int threads) {
    const DenseMatrix xm = matrix_of(x);
    analysis::PcaResult r;
    {
      nb::gil_scoped_release release;
      r = analysis::pca(xm, components, threads);
    }
    nb::dict d;
    d["components"] = numpy_of(r.components);
    d["scores"] = numpy_of(r.scores);
    d["explained_variance"] = r.explained_variance;
    d["explained_variance_ratio"] = r.explained_variance_ratio;
    d["singular_values"] = r.singular_values;
    d["mean"] = r.mean;
    return d;
  }, nb::arg("x"), nb::arg("components"), nb::arg("threads") = 0, "scikit-learn's PCA (full solver)");
  m.def("kmeans", [](nb::handle x, int clusters, int max_iter, double tol, std::uint64_t seed, int n_init,
                     int threads) {
    const DenseMatrix xm = matrix_of(x);
    analysis::KMeansOptions o;
    o.clusters = clusters;
    o.max_iter = max_iter;
    o.tol = tol;
    o.seed = seed;
    o.n_init = n_init;
    o.threads = threads;
    analysis::KMeansResult r;
    {
      nb::gil_scoped_release release;
      r = analysis::kmeans(xm, o);
    }
    Array labels(DType::i32, {static_cast<std::int64_t>(r.labels.size())});
    std::copy(r.labels.begin(), r.labels.end(), labels.data<std::int32_t>());
    nb::dict d;
    d["labels"] = to_numpy(labels);
    d["centers"] = numpy_of(r.centers);
    d["inertia"] = r.inertia;
    d["iterations"] = r.iterations;
    return d;
  }, nb::arg("x"), nb::arg("clusters"), nb::arg("max_iter") = 300, nb::arg("tol") = 1e-4, nb::arg("seed") = 0,
        nb::arg("n_init") = 1, nb::arg("threads") = 0, "k-means++ then Lloyd iterations on the rows of X");
  m.def("threshold_class_means", [](nb::handle coefficients, nb::handle signal, double quantile) {
    const analysis::ClassMeans c =
        analysis::threshold_class_means(matrix_of(coefficients), copy_array(signal), quantile);
    nb::dict d;
    d["means"] = numpy_of(c.means);
    d["counts"] = c.counts;
    d["thresholds"] = c.thresholds;
    d["masks"] = to_numpy(c.masks);
    return d;
  }, nb::arg("coefficients"), nb::arg("signal"), nb::arg("quantile") = 0.9,
        "mean signal rows (e.g. EDX spectra) of the positions whose coefficient is at or above the quantile of "
        "each component's column");
}

}  // namespace scandiff::python
