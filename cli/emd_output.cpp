#include "emd_output.hpp"

namespace scandiff::cli {

std::string python_class_for(const Result& r) {
  if (r.data.rank() == 2 && !r.axes.empty() && r.axes[0].name == "qy") return "DiffractionSlice";
  if (r.data.rank() == 2) return "RealSlice";
  return "Array";
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

}  // namespace scandiff::cli
