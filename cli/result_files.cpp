#include "result_files.hpp"

#include "scandiff/io/emd.hpp"
#include "scandiff/io/png.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

std::string python_class_for(const Result& r) {
  if (r.data.rank() == 2 && !r.axes.empty() && r.axes[0].name == "qy") return "DiffractionSlice";
  if (r.data.rank() == 2) return "RealSlice";
  return "Array";
}

void write_results_emd(const fs::path& path, const std::string& root, const Calibration& cal,
                       const std::vector<Result>& results,
                       const std::vector<std::pair<std::string, Metadata>>& metadata) {
  io::EmdWriter emd(path);
  emd.add_root(root, cal);
  for (const Result& r : results) emd.add_array(root, r, python_class_for(r));
  for (const auto& [name, md] : metadata) emd.add_metadata(root, name, md);
  emd.commit();
}

void write_result_pngs(const fs::path& dir, const std::vector<Result>& results, const std::string& colormap) {
  for (const Result& r : results) {
    if (r.data.rank() != 2) continue;
    io::PngOptions o;
    if (python_class_for(r) == "DiffractionSlice") {
      o.colormap = "inferno";
      o.range.stretch = io::DisplayRange::Stretch::log;
    } else {
      o.colormap = colormap;
    }
    io::write_png(dir / (r.name + ".png"), r.data, o);
  }
}

}  // namespace scandiff::cli
