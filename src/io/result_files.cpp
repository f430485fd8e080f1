#include "scandiff/io/result_files.hpp"

#include "scandiff/io/emd.hpp"
#include "scandiff/io/png.hpp"

namespace scandiff::io {

namespace fs = std::filesystem;

std::string python_class_for(const Result& r) {
  if (r.data.rank() == 2 && !r.axes.empty() && r.axes[0].name == "qy") return "DiffractionSlice";
  if (r.data.rank() == 2) return "RealSlice";
  return "Array";
}

void write_results_emd(const fs::path& path, const std::string& root, const Calibration& cal,
                       const std::vector<Result>& results,
                       const std::vector<std::pair<std::string, Metadata>>& metadata) {
  EmdWriter emd(path);
  emd.add_root(root, cal);
  for (const Result& r : results) emd.add_array(root, r, python_class_for(r));
  for (const auto& [name, md] : metadata) emd.add_metadata(root, name, md);
  emd.commit();
}

void write_result_pngs(const fs::path& dir, const std::vector<Result>& results, const std::string& colormap) {
  for (const Result& r : results) {
    if (r.data.rank() != 2) continue;
    PngOptions o;
    if (python_class_for(r) == "DiffractionSlice") {
      o.colormap = "inferno";
      o.range.stretch = DisplayRange::Stretch::log;
    } else {
      o.colormap = colormap;
    }
    write_png(dir / (r.name + ".png"), r.data, o);
  }
}

Metadata emd_safe_metadata(const Metadata& md) {
  if (md.is_array()) {
    Metadata out = Metadata::array();
    for (const auto& v : md) out.push_back(emd_safe_metadata(v));
    return out;
  }
  if (!md.is_object()) return md;
  Metadata out = Metadata::object();
  for (const auto& [key, value] : md.items()) {
    std::string k = key;
    for (char& c : k)
      if (c == '/') c = '_';
    if (k.empty() || k == ".") k.assign(1, '_');  // (not k = "_": GCC 12 -Wrestrict false positive)
    out[k] = emd_safe_metadata(value);
  }
  return out;
}

}  // namespace scandiff::io
