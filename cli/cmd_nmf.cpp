// scandiff nmf FILE --out DIR: non-negative matrix factorisation of per-position profiles or
// patterns (a (ry, rx, n) or (ry, rx, qy, qx) array of an EMD file, e.g. from scandiff virtual),
// with an optional reconstruction-error scan over k, PCA, k-means, and mean EDX spectra of the
// positions where each component is strong (the ePSIC NMF–EDX workflow).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "result_files.hpp"
#include "scandiff/analysis/class_means.hpp"
#include "scandiff/analysis/kmeans.hpp"
#include "scandiff/analysis/nmf.hpp"
#include "scandiff/analysis/pca.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/ripple.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;
using analysis::DenseMatrix;

namespace {

struct NmfCliOptions {
  std::string path, datapath, out;
  int components = 2;
  std::string solver = "mu", init = "nndsvda";
  int max_iter = 200;
  double tol = 1e-4;
  std::uint64_t seed = 0;
  int scan_components = 0;
  int pca = 0;
  int kmeans = 0;
  std::string edx;
  double threshold = 0.9;
  std::string colormap = "viridis";
};

// The input array: positions (ry·rx) × features, and the scan / feature axes for the outputs.
struct Input {
  DenseMatrix x;
  Result source;  // axes (data dropped after conversion)
  Shape shape;    // of the array as stored
  std::string node;
};

// The factorisations hold X in memory as float64 (not streamed): refuse inputs whose copy plus
// the stored array exceed the memory budget, before reading them.
Input read_input(const NmfCliOptions& o, std::size_t budget) {
  std::string node = o.datapath;
  const auto nodes = io::list_emd_nodes(o.path);
  for (const io::EmdNodeInfo& n : nodes) {
    const bool match = node.empty() ? n.emd_group_type == "array" && (n.shape.size() == 3 || n.shape.size() == 4)
                                    : n.path == node || n.path == "/" + node;
    if (!match) continue;
    node = n.path;
    if (n.dtype_supported) {
      const double bytes = static_cast<double>(element_count(n.shape)) * static_cast<double>(8 + size_of(n.dtype));
      if (bytes > static_cast<double>(budget))
        throw BudgetError(fmt::format("{}: {} of shape {} needs {:.0f} MiB in memory as float64, above the memory "
                                      "budget of {} MiB (--memory; bin the data or use profiles)",
                                      o.path, node, shape_string(n.shape), bytes / 1048576.0, budget >> 20));
    }
    break;
  }
  if (node.empty()) throw FormatError(fmt::format("{}: no 3D or 4D array node to factorise (give --datapath)", o.path));
  Input in;
  in.node = node;
  in.source = io::read_emd_array(o.path, node);
  const Shape& shape = in.source.data.shape();
  if (shape.size() != 3 && shape.size() != 4)
    throw InvalidArgument(fmt::format("--datapath {}: shape {}, expected (ry, rx, n) or (ry, rx, qy, qx)", node,
                                      shape_string(shape)));
  const std::int64_t positions = shape[0] * shape[1];
  in.x = DenseMatrix(positions, in.source.data.size() / std::max<std::int64_t>(positions, 1));
  visit_dtype(in.source.data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = in.source.data.data<T>();
    for (std::size_t i = 0; i < in.x.values.size(); ++i) in.x.values[i] = static_cast<double>(p[i]);
  });
  in.shape = shape;
  in.source.data = Array();
  return in;
}

Axis axis_or(const Result& r, std::size_t i, const char* name) {
  return i < r.axes.size() ? r.axes[i] : Axis{name, 0, 1, "pixels"};
}

// Rows of a k × features matrix as results: one (qy, qx) image each for patterns, else one
// (k, n) array.
void add_feature_rows(std::vector<Result>& results, const std::string& name, const DenseMatrix& m, const Shape& shape,
                      const Input& in) {
  if (shape.size() == 4) {
    for (std::int64_t c = 0; c < m.rows; ++c) {
      Result r;
      r.name = fmt::format("{}_{}", name, c);
      r.data = Array(DType::f64, {shape[2], shape[3]});
      std::copy(m.row(c), m.row(c) + m.cols, r.data.data<double>());
      r.axes = {axis_or(in.source, 2, "qy"), axis_or(in.source, 3, "qx")};
      r.axes[0].name = "qy";  // our names (the file may use py4DSTEM's Qx, Qy for the same axes)
      r.axes[1].name = "qx";
      results.push_back(std::move(r));
    }
    return;
  }
  Result r;
  r.name = name;
  r.data = Array(DType::f64, {m.rows, m.cols});
  std::copy(m.values.begin(), m.values.end(), r.data.data<double>());
  r.axes = {Axis{"component", 0, 1, ""}, axis_or(in.source, 2, "n")};
  results.push_back(std::move(r));
}

void write_text(const fs::path& path, const std::string& text) {
  io::AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path());
    f << text;
    if (!f) throw IoError(fmt::format("{}: cannot write", path.string()));
  }
  out.commit();
}

void run_nmf(const NmfCliOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  analysis::NmfOptions opt;
  opt.components = o.components;
  opt.solver = analysis::parse_nmf_solver(o.solver);
  opt.init = analysis::parse_nmf_init(o.init);
  opt.max_iter = o.max_iter;
  opt.tol = o.tol;
  opt.seed = o.seed;
  opt.threads = global.threads;
  if (!(o.threshold >= 0 && o.threshold <= 1))
    throw InvalidArgument(fmt::format("--threshold {}: expected a quantile in 0 .. 1 (0.9 = 90th percentile)", o.threshold));
  create_output_folder(o.out);

  const std::size_t budget = global.run_options("nmf").memory_budget;
  Input in = read_input(o, budget > 0 ? budget : engine::default_memory_budget());
  const Shape& shape = in.shape;
  const std::int64_t ry = shape[0], rx = shape[1];
  const Axis ay = axis_or(in.source, 0, "ry"), ax = axis_or(in.source, 1, "rx");
  auto map_of = [&](const std::string& name, const DenseMatrix& m, std::int64_t c, const std::string& units) {
    Result r;
    r.name = name;
    r.data = Array(DType::f64, {ry, rx});
    double* d = r.data.data<double>();
    for (std::int64_t i = 0; i < ry * rx; ++i) d[i] = m(i, c);
    r.axes = {ay, ax};
    r.units = units;
    return r;
  };

  std::vector<Result> results, maps;
  Metadata summary{{"input", o.path}, {"datapath", in.node}, {"positions", in.x.rows}, {"features", in.x.cols}};
  const auto t_nmf = std::chrono::steady_clock::now();
  const analysis::NmfResult nmf = analysis::nmf(in.x, opt);
  const double nmf_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_nmf).count();
  summary["nmf"] = {{"components", o.components}, {"solver", o.solver}, {"init", o.init},
                    {"max_iter", o.max_iter},     {"tol", o.tol},       {"seed", o.seed},
                    {"reconstruction_error", nmf.reconstruction_error}, {"iterations", nmf.iterations},
                    {"converged", nmf.converged}, {"seconds", nmf_seconds}};
  add_feature_rows(results, "nmf_components", nmf.h, shape, in);
  for (std::int64_t c = 0; c < o.components; ++c) maps.push_back(map_of(fmt::format("nmf_map_{}", c), nmf.w, c, "coefficient"));

  std::string text = fmt::format("# NMF components (rows of H), {} solver, init {}\n# feature", o.solver, o.init);
  for (int c = 0; c < o.components; ++c) text += fmt::format(" component_{}", c);
  text += '\n';
  for (std::int64_t j = 0; j < nmf.h.cols; ++j) {
    text += fmt::format("{}", j);
    for (int c = 0; c < o.components; ++c) text += fmt::format(" {:.10g}", nmf.h(c, j));
    text += '\n';
  }
  write_text(fs::path(o.out) / "nmf_components.txt", text);

  if (o.scan_components > 0) {
    const auto scan = analysis::nmf_error_scan(in.x, o.scan_components, opt);
    std::string t = "# components reconstruction_error iterations\n";
    for (const auto& p : scan) t += fmt::format("{} {:.12g} {}\n", p.components, p.reconstruction_error, p.iterations);
    write_text(fs::path(o.out) / "nmf_error_scan.txt", t);
    std::vector<int> ks;
    std::vector<double> errors;
    for (const auto& p : scan) {
      ks.push_back(p.components);
      errors.push_back(p.reconstruction_error);
    }
    summary["error_scan"] = {{"components", ks}, {"reconstruction_error", errors}};
  }
  if (o.pca > 0) {
    const analysis::PcaResult p = analysis::pca(in.x, o.pca, global.threads);
    add_feature_rows(results, "pca_components", p.components, shape, in);
    for (int c = 0; c < o.pca; ++c) maps.push_back(map_of(fmt::format("pca_score_{}", c), p.scores, c, ""));
    std::string t = "# component explained_variance explained_variance_ratio singular_value\n";
    for (int c = 0; c < o.pca; ++c)
      t += fmt::format("{} {:.12g} {:.12g} {:.12g}\n", c, p.explained_variance[c], p.explained_variance_ratio[c],
                       p.singular_values[c]);
    write_text(fs::path(o.out) / "pca_explained_variance.txt", t);
    summary["pca"] = {{"explained_variance", p.explained_variance}, {"explained_variance_ratio", p.explained_variance_ratio}};
  }
  if (o.kmeans > 0) {
    analysis::KMeansOptions ko;
    ko.clusters = o.kmeans;
    ko.seed = o.seed;
    ko.threads = global.threads;
    const analysis::KMeansResult k = analysis::kmeans(in.x, ko);
    Result labels;
    labels.name = "kmeans_labels";
    labels.data = Array(DType::i32, {ry, rx});
    std::copy(k.labels.begin(), k.labels.end(), labels.data.data<std::int32_t>());
    labels.axes = {ay, ax};
    labels.units = "cluster";
    maps.push_back(std::move(labels));
    add_feature_rows(results, "kmeans_centers", k.centers, shape, in);
    summary["kmeans"] = {{"clusters", o.kmeans}, {"inertia", k.inertia}, {"iterations", k.iterations}};
  }
  if (!o.edx.empty()) {
    const Result edx = io::read_ripple(o.edx);
    if (edx.data.shape(0) != ry || edx.data.shape(1) != rx)
      throw InvalidArgument(fmt::format("--edx {}: scan {} x {}, the NMF input's is {} x {}", o.edx, edx.data.shape(0),
                                        edx.data.shape(1), ry, rx));
    const analysis::ClassMeans cm = analysis::threshold_class_means(nmf.w, edx.data, o.threshold);
    Result means;
    means.name = "edx_class_means";
    means.data = Array(DType::f64, {cm.means.rows, cm.means.cols});
    std::copy(cm.means.values.begin(), cm.means.values.end(), means.data.data<double>());
    means.axes = {Axis{"component", 0, 1, ""}, edx.axes[2]};
    means.units = edx.units;
    results.push_back(means);
    for (int c = 0; c < o.components; ++c) {
      Result mask;
      mask.name = fmt::format("edx_class_{}", c);
      mask.data = Array(DType::u8, {ry, rx});
      std::copy_n(cm.masks.data<std::uint8_t>() + c * ry * rx, ry * rx, mask.data.data<std::uint8_t>());
      mask.axes = {ay, ax};
      maps.push_back(std::move(mask));
    }
    const Axis& e = edx.axes[2];
    std::string t = fmt::format("# mean EDX spectrum of the positions with NMF coefficient >= the {} quantile of each "
                                "component\n# {} ({})",
                                o.threshold, e.name, e.units);
    for (int c = 0; c < o.components; ++c) t += fmt::format(" class_{}", c);
    t += "\n# positions";
    for (const auto n : cm.counts) t += fmt::format(" {}", n);
    t += "\n# thresholds";
    for (const auto v : cm.thresholds) t += fmt::format(" {:.10g}", v);
    t += '\n';
    for (std::int64_t j = 0; j < cm.means.cols; ++j) {
      t += fmt::format("{:.10g}", e.origin + e.step * static_cast<double>(j));
      for (int c = 0; c < o.components; ++c) t += fmt::format(" {:.10g}", cm.means(c, j));
      t += '\n';
    }
    write_text(fs::path(o.out) / "edx_class_means.txt", t);
    summary["edx"] = {{"file", o.edx}, {"threshold_quantile", o.threshold}, {"positions", cm.counts},
                      {"thresholds", cm.thresholds}};
  }
  for (auto& m : maps) results.push_back(m);
  const fs::path emd = fs::path(o.out) / "nmf.h5";
  write_results_emd(emd, "nmf", Calibration{}, results, {{"nmf", summary}});
  write_result_pngs(o.out, maps, o.colormap);
  std::vector<Result> images;  // component images of (qy, qx) patterns: log-scaled inferno PNGs
  for (const Result& r : results)
    if (r.data.rank() == 2 && !r.axes.empty() && r.axes[0].name == "qy") images.push_back(r);
  write_result_pngs(o.out, images);
  write_text(fs::path(o.out) / "summary.json", summary.dump(2) + "\n");

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("nmf: {} positions x {} features, k = {} ({}, init {}): error {:.6g} after {} iterations "
                           "in {:.2f} s\n",
                           in.x.rows, in.x.cols, o.components, o.solver, o.init, nmf.reconstruction_error,
                           nmf.iterations, seconds);
  std::cout << fmt::format("  {}  EMD 1.0, root 'nmf'; {}/<name>.png, summary.json, nmf_components.txt\n", emd.string(),
                           o.out);
}

}  // namespace

void register_nmf(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<NmfCliOptions>();
  auto* cmd = app.add_subcommand(
      "nmf", "non-negative matrix factorisation of per-position profiles or patterns (scikit-learn's mu / cd "
             "solvers), with an error scan over k, PCA, k-means and per-class mean EDX spectra");
  cmd->add_option("file", o->path, "EMD 1.0 / HDF5 file holding a (ry, rx, n) or (ry, rx, qy, qx) array")->required();
  cmd->add_option("--datapath", o->datapath,
                  "array node to factorise, e.g. virtual_root/polar_mean (default: the first 3D or 4D array)");
  cmd->add_option("--out", o->out, "folder for nmf.h5, summary.json, text tables and PNGs (created if missing)")
      ->required();
  cmd->add_option("--components,-k", o->components, "number of NMF components")->capture_default_str();
  cmd->add_option("--solver", o->solver, "mu (multiplicative updates) or cd (coordinate descent, HALS)")
      ->capture_default_str();
  cmd->add_option("--init", o->init, "nndsvd, nndsvda, nndsvdar or random")->capture_default_str();
  cmd->add_option("--max-iter", o->max_iter, "iteration limit")->capture_default_str();
  cmd->add_option("--tol", o->tol,
                  "stopping tolerance (mu: relative error decrease per 10 iterations; cd: projected-gradient "
                  "violation relative to the first iteration's; 0 = run max-iter)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the random / nndsvdar initialisation and of k-means++")
      ->capture_default_str();
  cmd->add_option("--scan-components", o->scan_components,
                  "also factorise with k = 1 .. K and write the reconstruction error per k to nmf_error_scan.txt");
  cmd->add_option("--pca", o->pca, "also run PCA with this many components (pca_explained_variance.txt)");
  cmd->add_option("--kmeans", o->kmeans, "also cluster the positions' profiles into K k-means clusters");
  cmd->add_option("--edx", o->edx,
                  "Ripple .rpl EDX spectrum image of the same scan: mean spectrum of each NMF component's class");
  cmd->add_option("--threshold", o->threshold,
                  "with --edx: a position is in component c's class when its coefficient is at or above this "
                  "quantile of c's map (0.9 = 90th percentile, as the ePSIC workflow)")
      ->capture_default_str();
  cmd->add_option("--colormap", o->colormap, "colour map of the map PNGs")->capture_default_str();
  cmd->callback([o, &global] { run_nmf(*o, global); });
}

}  // namespace scandiff::cli
