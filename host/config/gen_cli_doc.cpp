// Writes docs/cli.md from the option registry: msw_gen_cli_doc <path> (or to stdout without one).
#include "host/config/help.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  const std::string doc = megaswift::config::cli_markdown();
  if (argc < 2) {
    std::cout << doc;
    return 0;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << doc;
  if (!out) {
    std::perror(argv[1]);
    return 1;
  }
  return 0;
}
