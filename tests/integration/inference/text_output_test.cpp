// Hugging Face's clean_up_tokenization_spaces (applied by swift infer where tokenizer_config.json asks for it, as
// Llama 3's does): the spaces its word-piece era decoders left before punctuation and English contractions go, in
// the rule order of transformers' clean_up_tokenization; other text is untouched.
#include "host/inference/chat_engine.hpp"

#include <doctest/doctest.h>

using megaswift::inference::clean_up_tokenization_spaces;

TEST_CASE("clean_up_tokenization_spaces removes the space before punctuation and contractions, as transformers does") {
  CHECK(clean_up_tokenization_spaces("Hello , world ! Is n't it ?") == "Hello, world! Isn't it?");
  CHECK(clean_up_tokenization_spaces("I 'm sure it 's what we 've seen , they 're here .") ==
        "I'm sure it's what we've seen, they're here.");
  CHECK(clean_up_tokenization_spaces("a ' b") == "a'b");
  CHECK(clean_up_tokenization_spaces(" . . .") == "...");
  // Nothing to clean: unchanged, including non-ASCII text and spaces elsewhere.
  CHECK(clean_up_tokenization_spaces("  two  spaces, 你好 .") == "  two  spaces, 你好.");
  CHECK(clean_up_tokenization_spaces("") == "");
}
