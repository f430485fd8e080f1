#include "scandiff/stem/strain.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

Lattice reference_lattice(const LatticeMaps& maps, const Array& region) {
  const std::int64_t n = maps.valid.size();
  Array reg;
  if (!region.empty()) {
    if (region.shape() != maps.valid.shape())
      throw InvalidArgument(fmt::format("strain reference: the region has shape {}, the scan {}", shape_string(region.shape()),
                                        shape_string(maps.valid.shape())));
    reg = region.astype(DType::f64);
  }
  std::vector<double> v[4];
  const Array* src[4] = {&maps.g1x, &maps.g1y, &maps.g2x, &maps.g2y};
  for (std::int64_t p = 0; p < n; ++p) {
    if (!maps.valid.data<std::uint8_t>()[p] || (!reg.empty() && reg.data<double>()[p] == 0)) continue;
    for (int c = 0; c < 4; ++c) v[c].push_back(src[c]->data<double>()[p]);
  }
  if (v[0].empty()) throw InvalidArgument("strain reference: no fitted lattice in the reference region");
  Lattice l;
  l.g1x = analysis::median_inplace(v[0]);
  l.g1y = analysis::median_inplace(v[1]);
  l.g2x = analysis::median_inplace(v[2]);
  l.g2y = analysis::median_inplace(v[3]);
  return l;
}

StrainMaps strain_maps(const LatticeMaps& maps, const Lattice& ref, double frame_rad) {
  const double det = ref.g1x * ref.g2y - ref.g2x * ref.g1y;
  const double scale = std::hypot(ref.g1x, ref.g1y) * std::hypot(ref.g2x, ref.g2y);
  if (!(std::abs(det) > 1e-9 * scale) || !std::isfinite(det))
    throw InvalidArgument("strain: the reference g1 and g2 are collinear or zero");
  if (!std::isfinite(frame_rad)) throw InvalidArgument("strain: the frame angle must be finite");
  // [g1r g2r]⁻¹ (columns g1r, g2r).
  const double i00 = ref.g2y / det, i01 = -ref.g2x / det, i10 = -ref.g1y / det, i11 = ref.g1x / det;
  const Shape shape = maps.valid.shape();
  StrainMaps s{Array(DType::f64, shape), Array(DType::f64, shape), Array(DType::f64, shape), Array(DType::f64, shape), ref,
               frame_rad};
  const double c = std::cos(frame_rad), sn = std::sin(frame_rad);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::int64_t p = 0; p < maps.valid.size(); ++p) {
    double exx = nan, eyy = nan, exy = nan, rot = nan;
    if (maps.valid.data<std::uint8_t>()[p]) {
      const double g1x = maps.g1x.data<double>()[p], g1y = maps.g1y.data<double>()[p];
      const double g2x = maps.g2x.data<double>()[p], g2y = maps.g2y.data<double>()[p];
      // β = [g1 g2]·[g1r g2r]⁻¹
      const double b00 = g1x * i00 + g2x * i10, b01 = g1x * i01 + g2x * i11;
      const double b10 = g1y * i00 + g2y * i10, b11 = g1y * i01 + g2y * i11;
      const double e_xx = 1 - b00, e_yy = 1 - b11, e_xy = -(b01 + b10) / 2;
      rot = (b01 - b10) / 2;
      exx = c * c * e_xx + 2 * c * sn * e_xy + sn * sn * e_yy;
      eyy = sn * sn * e_xx - 2 * c * sn * e_xy + c * c * e_yy;
      exy = c * sn * (e_yy - e_xx) + (c * c - sn * sn) * e_xy;
    }
    s.exx.data<double>()[p] = exx;
    s.eyy.data<double>()[p] = eyy;
    s.exy.data<double>()[p] = exy;
    s.rotation_rad.data<double>()[p] = rot;
  }
  return s;
}

}  // namespace scandiff::stem
