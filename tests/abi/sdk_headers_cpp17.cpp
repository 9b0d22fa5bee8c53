// Compiles every SDK header (the nn/ blocks need nlohmann/json) as C++17 with -pedantic-errors: plugin authors may use C++17 compilers.
#include <megaswift/c/abi.h>
#include <megaswift/c/checkpoint.h>
#include <megaswift/c/comm.h>
#include <megaswift/c/host.h>
#include <megaswift/c/model.h>
#include <megaswift/c/ops.h>
#include <megaswift/c/optimizer.h>
#include <megaswift/c/parallel.h>
#include <megaswift/c/plugin.h>
#include <megaswift/c/template.h>
#include <megaswift/c/tensor.h>
#include <megaswift/c/tokenizer.h>
#include <megaswift/sdk/log.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/ops.hpp>
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/template.hpp>
#include <megaswift/sdk/tensor.hpp>
#include <megaswift/sdk/tokenizer.hpp>

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/attention.hpp>
#include <megaswift/nn/cross_entropy.hpp>
#include <megaswift/nn/embedding.hpp>
#include <megaswift/nn/gpt_model.hpp>
#include <megaswift/nn/hf_config.hpp>
#include <megaswift/nn/hf_layout.hpp>
#include <megaswift/nn/linear.hpp>
#include <megaswift/nn/mlp.hpp>
#include <megaswift/nn/norm.hpp>
#include <megaswift/nn/param_table.hpp>
#include <megaswift/nn/transformer_config.hpp>

static_assert(__cplusplus >= 201703L);
