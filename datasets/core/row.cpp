#include "datasets/core/row.hpp"

namespace megaswift::datasets {

nlohmann::json to_json(const Row& row) {
  nlohmann::json messages = nlohmann::json::array();
  for (const Message& m : row.messages) {
    nlohmann::json j = {{"role", m.role}, {"content", m.content}};
    if (m.loss) j["loss"] = *m.loss;
    messages.push_back(std::move(j));
  }
  return {{"messages", std::move(messages)}};
}

}  // namespace megaswift::datasets
