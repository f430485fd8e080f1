#include <memory>

#include "commands.hpp"
#include "progress_bar.hpp"

namespace scandiff::cli {

engine::RunOptions GlobalOptions::run_options(const std::string&) const {
  engine::RunOptions o;
  o.threads = threads;
  if (!memory.empty()) o.memory_budget = engine::parse_memory_size(memory, "--memory");
  o.cancel = &interrupt_token();
  return o;
}

}  // namespace scandiff::cli
