#include "scandiff/stem/center_shift.hpp"

namespace scandiff::stem {

std::string_view name_of(CenterShift shift) {
  switch (shift) {
    case CenterShift::none: return "none";
    case CenterShift::integer: return "integer";
    case CenterShift::subpixel: return "subpixel";
  }
  return "?";
}

}  // namespace scandiff::stem
