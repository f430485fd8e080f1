// scandiff integrate IMAGE...: azimuthal integration of area-detector images with a pyFAI .poni
// geometry (pyFAI's integrate1d / integrate2d semantics, docs/azimuthal-integration.md). The
// sparse pixel->bin matrix is built once and applied to every image; one output per input.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>

#include "commands.hpp"
#include "input_options.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/image_file.hpp"
#include "scandiff/xray/azimuthal_cakes.hpp"
#include "scandiff/xray/azimuthal_profiles.hpp"
#include "scandiff/xray/bin_filter.hpp"
#include "scandiff/xray/integrator.hpp"
#include "scandiff/xray/pattern_text.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct IntegrateArgs {
  std::vector<std::string> inputs;
  std::string poni;
  std::string output;
  std::string format = "text";
  std::int64_t npt = 1000;
  std::int64_t npt_azim = 0;
  std::string unit = "q_nm^-1";
  std::string method = "bbox";
  std::string mask;
  std::optional<double> mask_below, mask_above;
  std::string dark, flat;
  std::optional<double> polarization;
  bool no_solid_angle = false;
  double normalization = 1;
  std::vector<double> radial_range, azimuth_range;
  std::string error_model = "none";
  std::vector<double> percentile;
  std::optional<double> sigma_clip;
  int max_iter = 5;
  std::optional<double> dummy;
  double delta_dummy = 0;
  bool flip_ud = false;
  std::optional<int> orientation;
  bool scan = false;
  // Electron geometry instead of --poni: a detector perpendicular to the beam.
  std::optional<double> wavelength_A, camera_length_m, pixel_size_m, k_per_pixel;
  std::vector<double> center;  // ROW,COL pixel indices of the pattern centre
};

// The geometry: the .poni file, or the electron description (wavelength, centre, and either pixel
// size + camera length or the reciprocal pixel size).
xray::PoniGeometry geometry_of(const IntegrateArgs& a) {
  const bool electron = a.wavelength_A || a.camera_length_m || a.pixel_size_m || a.k_per_pixel || !a.center.empty();
  if (!a.poni.empty() && electron)
    throw InvalidArgument("give either --poni or the electron geometry (--wavelength-A, --center, ...), not both");
  if (!a.poni.empty()) return xray::read_poni(a.poni);
  if (!electron) throw InvalidArgument("a geometry is needed: --poni FILE, or --wavelength-A, --center and "
                                       "--pixel-size with --camera-length (or --k-per-pixel)");
  if (!a.wavelength_A || a.center.size() != 2)
    throw InvalidArgument("electron geometry: --wavelength-A and --center ROW,COL are required");
  // pyFAI's coordinates put a pixel's centre at index + 0.5.
  const double row = a.center[0] + 0.5, col = a.center[1] + 0.5, lambda_m = *a.wavelength_A * 1e-10;
  if (a.k_per_pixel) {
    if (a.camera_length_m || a.pixel_size_m)
      throw InvalidArgument("electron geometry: --k-per-pixel replaces --pixel-size and --camera-length");
    return xray::electron_geometry_reciprocal(*a.k_per_pixel, lambda_m, row, col);
  }
  if (!a.camera_length_m || !a.pixel_size_m)
    throw InvalidArgument("electron geometry: --pixel-size and --camera-length (or --k-per-pixel) are required");
  return xray::electron_geometry(*a.pixel_size_m, *a.camera_length_m, lambda_m, row, col);
}

// One image as a (rows, cols) array: TIFF, EDF or CBF, recognised by content (io::read_image).
Array load_image(const fs::path& path) { return io::read_image(path); }

std::optional<std::pair<double, double>> range_of(const std::vector<double>& v, const char* flag) {
  if (v.empty()) return std::nullopt;
  if (v.size() != 2) throw InvalidArgument(fmt::format("{}: expected two values LO,HI", flag));
  return std::make_pair(v[0], v[1]);
}

// The per-bin filter: --percentile P or LO,HI, --sigma-clip THRES (--max-iter), else the mean.
xray::BinFilter filter_of(const IntegrateArgs& a) {
  if (a.percentile.size() > 2) throw InvalidArgument("--percentile: expected P or LO,HI");
  if (a.sigma_clip && !a.percentile.empty()) throw InvalidArgument("--sigma-clip and --percentile: choose one filter");
  if (a.sigma_clip) return xray::BinFilter::sigma_clipping(*a.sigma_clip, a.max_iter);
  if (!a.percentile.empty()) return xray::BinFilter::quantile(a.percentile.front(), a.percentile.back());
  return {};
}

// Output path for `input`: -o FILE with one input, else DIR/<stem>.<ext> (DIR = -o or ".").
fs::path output_for(const IntegrateArgs& a, const fs::path& input, const std::string& ext) {
  if (a.inputs.size() == 1 && !a.output.empty() && fs::path(a.output).has_extension() && !fs::is_directory(a.output))
    return a.output;
  const fs::path dir = a.output.empty() ? fs::path(".") : fs::path(a.output);
  if (!fs::is_directory(dir)) throw IoError(fmt::format("-o {}: not a directory", dir.string()));
  return dir / (input.stem().string() + ext);
}

Result as_result(const std::string& name, const std::vector<double>& values, const xray::IntegrationResult& r,
                 xray::RadialUnit unit) {
  const bool two_d = !r.azimuthal.empty();
  const std::int64_t n_rad = static_cast<std::int64_t>(r.radial.size());
  Shape shape = two_d ? Shape{static_cast<std::int64_t>(r.azimuthal.size()), n_rad} : Shape{n_rad};
  Array data(DType::f64, shape);
  std::copy(values.begin(), values.end(), data.data<double>());
  Result res;
  res.name = name;
  res.data = data;
  const double rad_step = n_rad > 1 ? r.radial[1] - r.radial[0] : 1;
  const Axis radial{std::string(xray::unit_name(unit)), r.radial.front(), rad_step, std::string(xray::unit_name(unit))};
  if (two_d) {
    const double chi_step = r.azimuthal.size() > 1 ? r.azimuthal[1] - r.azimuthal[0] : 1;
    res.axes = {Axis{"chi", r.azimuthal.front(), chi_step, "deg"}, radial};
  } else {
    res.axes = {radial};
  }
  res.units = "counts";
  return res;
}

void integrate(const IntegrateArgs& a, const GlobalOptions& global) {
  if (a.format != "text" && a.format != "h5")
    throw InvalidArgument(fmt::format("--format '{}': expected text or h5", a.format));
  xray::PoniGeometry poni = geometry_of(a);
  if (a.orientation) poni.orientation = *a.orientation;
  if (a.flip_ud) poni.orientation = poni.orientation == 3 ? 2 : poni.orientation == 2 ? 3 : poni.orientation == 1 ? 4 : 1;

  xray::IntegrationSetup setup;
  setup.unit = xray::parse_radial_unit(a.unit);
  setup.npt_rad = a.npt;
  setup.npt_azim = a.npt_azim;
  setup.splitting = xray::parse_splitting(a.method);
  setup.radial_range = range_of(a.radial_range, "--radial-range");
  setup.azimuth_range = range_of(a.azimuth_range, "--azimuth-range");
  setup.solid_angle = !a.no_solid_angle;
  setup.polarization_factor = a.polarization;
  setup.normalization_factor = a.normalization;
  if (!a.mask.empty()) setup.mask = load_image(a.mask);
  if (!a.flat.empty()) setup.flat = load_image(a.flat);
  xray::FrameCorrections corr;
  if (!a.dark.empty()) corr.dark = load_image(a.dark);
  if (a.dummy) corr.dummy = static_cast<float>(*a.dummy);
  corr.delta_dummy = static_cast<float>(a.delta_dummy);
  corr.error_model = xray::parse_error_model(a.error_model);
  corr.keep_sums = a.format == "h5";  // the EMD output also holds the per-bin counts
  if (a.mask_below) corr.valid_min = static_cast<float>(*a.mask_below);
  if (a.mask_above) corr.valid_max = static_cast<float>(*a.mask_above);

  xray::PatternHeader header;
  header.poni = poni;
  header.unit = setup.unit;
  header.splitting = a.method;
  header.mask = !a.mask.empty() || a.mask_below || a.mask_above;
  header.dark = !a.dark.empty();
  header.flat = !a.flat.empty();
  header.polarization_factor = a.polarization;
  header.normalization_factor = a.normalization;
  header.error_model = a.error_model;
  const xray::BinFilter filter = filter_of(a);
  xray::check_filter(filter, corr.error_model);
  if (filter.kind != xray::BinFilter::Kind::mean) header.filter = xray::describe(filter);

  if (a.scan) {
    // A 4D dataset: one pass of the engine, a 1D profile per scan position, one EMD file.
    if (a.inputs.size() != 1) throw InvalidArgument("--scan: give one dataset");
    InputOptions in;
    in.path = a.inputs[0];
    auto source = in.open();
    const io::DatasetInfo& info = source->info();
    const xray::DetectorGeometry geometry(poni, info.frame_y, info.frame_x);
    std::shared_ptr<const xray::AzimuthalIntegrator> integrator;
    {
      tbb::task_arena build_arena(global.threads > 0 ? global.threads : tbb::task_arena::automatic);
      build_arena.execute([&] { integrator = std::make_shared<const xray::AzimuthalIntegrator>(geometry, setup); });
    }
    const fs::path out = output_for(a, a.inputs[0], ".h5");
    Metadata md{{"poni", xray::format_poni(poni)}, {"unit", a.unit}, {"method", a.method},
                {"error_model", a.error_model}, {"source", a.inputs[0]}};
    md.update(xray::filter_metadata(filter));
    const auto t0 = std::chrono::steady_clock::now();
    if (a.npt_azim > 0) {
      // 2D: the cakes stream into an EMD datacube (ry, rx, npt_azim, npt) as the pass goes.
      xray::write_cakes_emd(*source, integrator, corr, out, md, a.unit, global.run_options("integrate"), filter);
    } else {
      xray::AzimuthalProfiles profiles(integrator, corr, filter);
      engine::Analysis* analyses[] = {&profiles};
      engine::run(*source, analyses, global.run_options("integrate"));
      write_results_emd(out, "azimuthal_integration", info.calibration, profiles.results(), {{"integration", md}});
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log_info("{} -> {}: {} {} ({}), {:.1f} frames/s", a.inputs[0], out.string(), info.frame_count(),
             a.npt_azim > 0 ? "cakes" : "profiles", xray::describe(filter),
             static_cast<double>(info.frame_count()) / seconds);
    return;
  }

  tbb::task_arena arena(global.threads > 0 ? global.threads : tbb::task_arena::automatic);
  std::unique_ptr<xray::AzimuthalIntegrator> integrator;
  double seconds = 0;
  xray::IntegrationResult r;  // reused from image to image
  for (const std::string& input : a.inputs) {
    const Array image = load_image(input);
    if (!integrator || integrator->rows() != image.shape(0) || integrator->cols() != image.shape(1)) {
      const xray::DetectorGeometry geometry(poni, image.shape(0), image.shape(1));
      arena.execute([&] { integrator = std::make_unique<xray::AzimuthalIntegrator>(geometry, setup); });
      log_debug("integrate: sparse matrix of {} bins, {} entries", integrator->matrix().rows,
                integrator->matrix().value.size());
    }
    const auto t0 = std::chrono::steady_clock::now();
    arena.execute([&] { xray::integrate_filtered(*integrator, image, corr, filter, r); });
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    header.source = input;
    if (a.format == "text") {
      const fs::path out = output_for(a, input, a.npt_azim > 0 ? ".dat" : ".xy");
      xray::write_pattern(out, r, header);
      log_info("{} -> {}", input, out.string());
    } else {
      const fs::path out = output_for(a, input, ".h5");
      std::vector<Result> results{as_result("intensity", r.intensity, r, setup.unit),
                                  as_result("count", r.count, r, setup.unit)};
      if (!r.sigma.empty()) results.push_back(as_result("sigma", r.sigma, r, setup.unit));
      if (!r.std_dev.empty()) results.push_back(as_result("std", r.std_dev, r, setup.unit));
      Metadata md{{"poni", xray::format_poni(poni)},
                  {"unit", a.unit},
                  {"method", a.method},
                  {"error_model", a.error_model},
                  {"source", input}};
      md.update(xray::filter_metadata(filter));
      write_results_emd(out, "azimuthal_integration", Calibration{}, results, {{"integration", md}});
      log_info("{} -> {}", input, out.string());
    }
  }
  if (seconds > 0)
    log_info("integrated {} image(s), {:.1f} frames/s (matrix applied, excluding file I/O)", a.inputs.size(),
             static_cast<double>(a.inputs.size()) / seconds);
}

}  // namespace

void register_integrate(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<IntegrateArgs>();
  auto* cmd = app.add_subcommand(
      "integrate", "azimuthal integration (1D pattern or 2D cake) of detector images with a pyFAI .poni geometry");
  cmd->add_option("images", a->inputs, "image file(s), TIFF/EDF/CBF (by content); one output per image")->required();
  cmd->add_option("--poni", a->poni, "pyFAI geometry file (.poni v1, v2 or v2.1)");
  cmd->add_option("--wavelength-A", a->wavelength_A, "electron geometry (instead of --poni): wavelength, Angstrom");
  cmd->add_option("--center", a->center, "electron geometry: pattern centre ROW,COL (pixel indices)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--pixel-size", a->pixel_size_m, "electron geometry: detector pixel size, m");
  cmd->add_option("--camera-length", a->camera_length_m, "electron geometry: camera length, m");
  cmd->add_option("--k-per-pixel", a->k_per_pixel,
                  "electron geometry: reciprocal pixel size, 1/Angstrom per pixel (k = 1/d), instead of "
                  "--pixel-size and --camera-length");
  cmd->add_option("-o,--output", a->output,
                  "output file (one image) or folder (default: current folder, <image stem>.xy / .dat / .h5)");
  cmd->add_option("--format", a->format, "text (.xy 1D, .dat 2D, pyFAI's layout) or h5 (EMD 1.0)")
      ->capture_default_str();
  cmd->add_option("--npt", a->npt, "radial bins")->capture_default_str();
  cmd->add_option("--npt-azim", a->npt_azim, "azimuthal bins: > 0 gives a 2D cake (npt_azim, npt)")
      ->capture_default_str();
  cmd->add_option("--unit", a->unit, "radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm, r_m")
      ->capture_default_str();
  cmd->add_option("--method", a->method, "pixel splitting: no, bbox or full")->capture_default_str();
  cmd->add_option("--mask", a->mask, "mask image (TIFF/EDF/CBF, same shape; non-zero = masked)");
  cmd->add_option("--mask-below", a->mask_below, "pixels below this value are invalid in each image");
  cmd->add_option("--mask-above", a->mask_above, "pixels above this value are invalid in each image");
  cmd->add_option("--dark", a->dark, "dark image (TIFF/EDF/CBF), subtracted");
  cmd->add_option("--flat", a->flat, "flat-field image (TIFF/EDF/CBF), divides");
  cmd->add_option("--polarization", a->polarization, "polarization factor -1..1 (e.g. 0.99); default none");
  cmd->add_flag("--no-solid-angle", a->no_solid_angle, "do not correct for the solid angle (cos^3)");
  cmd->add_option("--normalization-factor", a->normalization, "divide intensities by this factor")
      ->capture_default_str();
  cmd->add_option("--radial-range", a->radial_range, "LO,HI in the radial unit")->delimiter(',')->expected(2);
  cmd->add_option("--azimuth-range", a->azimuth_range, "LO,HI in degrees (chi in -180..180)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--error-model", a->error_model,
                  "none, poisson, azimuthal or hybrid (adds a sigma column; hybrid: azimuthal for --sigma-clip, "
                  "Poisson for the result)")
      ->capture_default_str();
  cmd->add_option("--percentile", a->percentile,
                  "median filter along the azimuth instead of the mean: P (50 = weighted median) or LO,HI "
                  "(mean between the two quantiles), pyFAI's medfilt1d_ng; per frame with --scan")
      ->delimiter(',');
  cmd->add_option("--sigma-clip", a->sigma_clip,
                  "sigma clipping along the azimuth instead of the mean (pyFAI's sigma_clip_ng): drop pixels with "
                  "|I - <I>| > THRES std (or Chauvenet's bound if larger) and repeat; needs --error-model; use "
                  "--method no, as pyFAI; per frame with --scan");
  cmd->add_option("--max-iter", a->max_iter, "sigma clipping: at most this many clipping iterations")
      ->capture_default_str();
  cmd->add_option("--dummy", a->dummy, "pixel value marking invalid pixels");
  cmd->add_option("--delta-dummy", a->delta_dummy, "tolerance on --dummy")->capture_default_str();
  cmd->add_flag("--flip-ud", a->flip_ud,
                "images are flipped up-down relative to the .poni (Dioptas geometry files: pyFAI orientation 2)");
  cmd->add_option("--orientation", a->orientation, "override the detector orientation (1..4, pyFAI's)");
  cmd->add_flag("--scan", a->scan,
                "the input is a 4D scan (EMD/HDF5, Merlin .mib): a 1D profile per position through the streaming "
                "engine, written as one EMD file (azimuthal_profiles (ry, rx, npt), mean_profile; with "
                "--error-model also sigma_profiles; with --sigma-clip also std_profiles and count_profiles); with "
                "--npt-azim a 2D cake per position, streamed into the datacube azimuthal_cakes "
                "(ry, rx, npt-azim, npt), and mean_cake; --percentile and --sigma-clip apply to every frame");
  cmd->callback([a, &global] { integrate(*a, global); });
}

}  // namespace scandiff::cli
