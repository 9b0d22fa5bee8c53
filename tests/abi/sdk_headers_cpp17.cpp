// Compiles every SDK header (c/, sdk/ and nn/; the nn/ blocks need nlohmann/json) as C++17 with -pedantic-errors:
// plugin authors may use C++17 compilers. tests/abi/CMakeLists.txt lists the headers it finds, so a new header is
// checked without editing this file.
#include "all_sdk_headers.inc"

static_assert(__cplusplus >= 201703L);
