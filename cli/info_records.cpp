#include "info_records.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "scandiff/core/metadata.hpp"
#include "scandiff/io/mda.hpp"
#include "scandiff/io/ripple.hpp"

namespace scandiff::cli {

namespace {

// Finite minimum and maximum of an array's values (NaN, NaN when none).
template <class T>
std::pair<double, double> value_range(const Array& a) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const T* p = a.data<T>();
  for (std::int64_t i = 0; i < a.size(); ++i) {
    const auto v = static_cast<double>(p[i]);
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  return {lo, hi};
}

Metadata describe_mda(const io::MdaFile& f) {
  Metadata doc{{"path", f.path.string()}, {"format", "APS MDA"}, {"version", f.version},
               {"scan_number", f.scan_number}, {"dimensions", f.dimensions}};
  Metadata dims = Metadata::array();
  for (std::size_t d = 0; d < f.dims.size(); ++d) {
    const io::MdaDimension& dim = f.dims[d];
    Metadata pos = Metadata::array(), det = Metadata::array();
    for (std::size_t j = 0; j < dim.positioners.size(); ++j) {
      const auto& p = dim.positioners[j];
      const auto [lo, hi] = value_range<double>(dim.positions[j]);
      pos.push_back({{"field", fmt::format("P{}", p.number + 1)}, {"name", p.name}, {"description", p.description},
                     {"units", p.units}, {"step_mode", p.step_mode}, {"min", lo}, {"max", hi}});
    }
    for (std::size_t j = 0; j < dim.detectors.size(); ++j) {
      const auto& c = dim.detectors[j];
      const auto [lo, hi] = value_range<float>(dim.values[j]);
      det.push_back({{"field", fmt::format("D{:02d}", c.number + 1)}, {"name", c.name}, {"description", c.description},
                     {"units", c.units}, {"min", lo}, {"max", hi}});
    }
    dims.push_back({{"dimension", d + 1}, {"scan_record", dim.scan_name}, {"time", dim.time},
                    {"requested_points", dim.requested_points}, {"acquired_points", dim.acquired_points},
                    {"shape", dim.shape}, {"positioners", pos}, {"detectors", det}});
  }
  doc["scan_dimensions"] = dims;
  Metadata extra = Metadata::object();
  for (const auto& pv : f.extra_pvs) extra[pv.name] = {{"description", pv.description}, {"value", pv.value}, {"units", pv.units}};
  doc["extra_pvs"] = extra;
  return doc;
}

void print_mda(const Metadata& doc) {
  std::cout << fmt::format("{}\n  format      APS MDA {:.1f}, scan {}\n  dimensions  {} (outermost first)\n",
                           doc["path"].get<std::string>(), doc["version"].get<double>(), doc["scan_number"].get<int>(),
                           doc["dimensions"].dump());
  for (const auto& d : doc["scan_dimensions"]) {
    std::cout << fmt::format("  dimension {}: {} ({} of {} points), started {}, arrays {}\n", d["dimension"].get<int>(),
                             d["scan_record"].get<std::string>(), d["acquired_points"].get<std::int64_t>(),
                             d["requested_points"].get<std::int64_t>(), d["time"].get<std::string>(), d["shape"].dump());
    std::cout << "    positioners\n";
    for (const auto& p : d["positioners"])
      std::cout << fmt::format("      {:4} {:32} {:28} [{}] {} .. {}\n", p["field"].get<std::string>(),
                               p["name"].get<std::string>(), p["description"].get<std::string>(),
                               p["units"].get<std::string>(), p["min"].dump(), p["max"].dump());
    std::cout << fmt::format("    detectors ({})\n", d["detectors"].size());
    for (const auto& c : d["detectors"])
      std::cout << fmt::format("      {:4} {:32} {:28} [{}] {} .. {}\n", c["field"].get<std::string>(),
                               c["name"].get<std::string>(), c["description"].get<std::string>(),
                               c["units"].get<std::string>(), c["min"].dump(), c["max"].dump());
  }
  if (!doc["extra_pvs"].empty()) std::cout << "  extra PVs   " << doc["extra_pvs"].dump(2) << '\n';
}

}  // namespace

bool describe_record_file(const std::string& path, bool as_json) {
  if (io::is_mda_path(path)) {
    const Metadata doc = describe_mda(io::read_mda(path));
    if (as_json) std::cout << doc.dump(2) << '\n';
    else print_mda(doc);
    return true;
  }
  if (io::is_ripple_path(path)) {
    const Result r = io::read_ripple(path);
    const Axis& e = r.axes[2];
    Metadata doc{{"path", path},
                 {"format", "Ripple spectrum image"},
                 {"shape", {{"ry", r.data.shape(0)}, {"rx", r.data.shape(1)}, {"channels", r.data.shape(2)}}},
                 {"dtype", std::string(name_of(r.data.dtype()))},
                 {"energy_axis", {{"name", e.name}, {"origin", e.origin}, {"step", e.step}, {"units", e.units}}},
                 {"header", r.provenance["ripple"]}};
    if (as_json) {
      std::cout << doc.dump(2) << '\n';
    } else {
      std::cout << fmt::format("{}\n  format      Ripple spectrum image\n  scan        {} x {} (ry, rx)\n  channels    "
                               "{} ({}: origin {}, step {} {})\n  dtype       {}\n  header      {}\n",
                               path, r.data.shape(0), r.data.shape(1), r.data.shape(2), e.name, e.origin, e.step,
                               e.units, name_of(r.data.dtype()), doc["header"].dump(2));
    }
    return true;
  }
  return false;
}

}  // namespace scandiff::cli
