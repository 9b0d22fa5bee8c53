// loss_on_text: how well a Hugging Face model predicts a text, through the installed Megaswift runtime.
//
//   loss_on_text [--bos] <hf_model_dir> "<text>"      (text "-": read it from standard input)
//
// Tokenizes the text with the directory's tokenizer (no special tokens added; --bos puts the tokenizer's BOS
// token first), runs the model on the ids and prints the number of tokens, the mean next-token cross-entropy over
// the positions that have a next token (what HF transformers' causal-LM loss gives for labels = input_ids) and its
// exponential, the perplexity.
#include <megaswift/runtime/model.hpp>
#include <megaswift/runtime/runtime.hpp>
#include <megaswift/runtime/tokenizer.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace rt = megaswift::runtime;

int main(int argc, char** argv) {
  bool bos = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--bos") == 0)
      bos = true;
    else
      args.emplace_back(argv[i]);
  }
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: loss_on_text [--bos] <hf_model_dir> \"<text>\"   (text \"-\": standard input)\n");
    return 2;
  }
  const std::string& model_dir = args[0];
  std::string text = args[1];
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

  try {
    rt::Runtime runtime;
    rt::Tokenizer tokenizer(runtime, model_dir);
    rt::Model model(runtime, model_dir);

    std::vector<int32_t> ids = tokenizer.encode(text);
    if (bos) {
      if (!tokenizer.bos_id()) {
        std::fprintf(stderr, "loss_on_text: --bos: the tokenizer of %s has no BOS token\n", model_dir.c_str());
        return 1;
      }
      ids.insert(ids.begin(), *tokenizer.bos_id());
    }
    if (ids.size() < 2) {
      std::fprintf(stderr, "loss_on_text: the text is %zu token(s); the loss needs at least 2\n", ids.size());
      return 1;
    }
    const rt::Loss loss = model.forward(rt::as_int64(ids), rt::shift_labels(ids));

    std::printf("model: %s (%s, %lld parameters), tokenizer: %s\n", model_dir.c_str(), model.plugin_name().c_str(),
                static_cast<long long>(model.num_parameters()), tokenizer.plugin_name().c_str());
    std::printf("tokens: %zu\n", ids.size());
    std::printf("predicted tokens: %lld\n", static_cast<long long>(loss.token_count));
    std::printf("loss: %.9g\n", loss.mean());
    std::printf("perplexity: %.9g\n", std::exp(loss.mean()));
    return 0;
  } catch (const rt::Error& e) {
    std::fprintf(stderr, "loss_on_text: %s\n", e.what());
    return 1;
  }
}
