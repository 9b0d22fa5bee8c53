// Compiles every SDK header as C++17 with -pedantic-errors: plugin authors may use C++17 compilers.
#include <megaswift/c/abi.h>
#include <megaswift/c/checkpoint.h>
#include <megaswift/c/comm.h>
#include <megaswift/c/host.h>
#include <megaswift/c/optimizer.h>
#include <megaswift/c/parallel.h>
#include <megaswift/c/plugin.h>
#include <megaswift/c/template.h>
#include <megaswift/c/tensor.h>
#include <megaswift/c/tokenizer.h>
#include <megaswift/sdk/log.hpp>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/template.hpp>
#include <megaswift/sdk/tensor.hpp>
#include <megaswift/sdk/tokenizer.hpp>

static_assert(__cplusplus >= 201703L);
