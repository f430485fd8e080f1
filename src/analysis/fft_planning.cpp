#include "scandiff/analysis/fft_planning.hpp"

#include <fftw3.h>

#include <atomic>
#include <mutex>
#include <system_error>

#include <fmt/format.h>

#include "fftw_planner.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"

namespace scandiff::analysis {

namespace {

std::atomic<FftPlanning>& planning_setting() {
  static std::atomic<FftPlanning> planning{FftPlanning::estimate};
  return planning;
}

}  // namespace

FftPlanning parse_fft_planning(std::string_view name) {
  if (name == "estimate") return FftPlanning::estimate;
  if (name == "measure") return FftPlanning::measure;
  if (name == "patient") return FftPlanning::patient;
  throw InvalidArgument(fmt::format("fft planning '{}': expected estimate, measure or patient", name));
}

std::string_view fft_planning_name(FftPlanning planning) {
  switch (planning) {
    case FftPlanning::estimate: return "estimate";
    case FftPlanning::measure: return "measure";
    case FftPlanning::patient: return "patient";
  }
  return "?";
}

void set_fft_planning(FftPlanning planning) { planning_setting().store(planning); }

FftPlanning fft_planning() { return planning_setting().load(); }

unsigned fftw_planner_flags() {
  switch (fft_planning()) {
    case FftPlanning::estimate: return FFTW_ESTIMATE;
    case FftPlanning::measure: return FFTW_MEASURE;
    case FftPlanning::patient: return FFTW_PATIENT;
  }
  return FFTW_ESTIMATE;
}

bool import_fftw_wisdom(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  std::lock_guard lock(fftw_planner_mutex());
  if (!fftw_import_wisdom_from_filename(path.c_str()))
    throw FormatError(fmt::format("{}: not an FFTW wisdom file (or unreadable)", path.string()));
  return true;
}

void export_fftw_wisdom(const std::filesystem::path& path) {
  io::AtomicOutput out(path);
  {
    std::lock_guard lock(fftw_planner_mutex());
    if (!fftw_export_wisdom_to_filename(out.temp_path().c_str()))
      throw IoError(fmt::format("{}: could not write the FFTW wisdom", path.string()));
  }
  out.commit();
}

}  // namespace scandiff::analysis
