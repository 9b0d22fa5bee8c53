// "Did you mean": the closest spelling by edit distance.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::config {

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost 1 (a typed "--lrr" is 1 from "--lr", "--lr_decay_stlye" 1 from
// "--lr_decay_style").
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` (ties: the shorter, then the alphabetically first); empty when
// there are no candidates.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace megaswift::config
