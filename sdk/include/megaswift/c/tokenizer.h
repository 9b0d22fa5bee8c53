/* Tokenizer plugins (kind MSW_KIND_TOKENIZER): text <-> token ids, chosen from the model directory
 * (`hf_bpe` reads Hugging Face's tokenizer.json and tokenizer_config.json).
 *
 * Text crosses the boundary as bytes (pointer + length, no terminator needed). Input that is not
 * valid UTF-8 is not an error: every maximal invalid subsequence is replaced with U+FFFD before
 * tokenizing (the Unicode "maximal subpart" practice; what Python's errors="replace", Rust's
 * String::from_utf8_lossy and the WHATWG TextDecoder do), so decode(encode(x)) gives back that
 * repaired text.
 *
 * Output buffers follow the MSW buffer protocol (abi.h): the callee always sets *out_needed to the
 * full size (elements for ids, bytes including a terminating NUL for text) and writes only when the
 * whole result fits; otherwise it writes nothing and succeeds, and the caller calls again with a larger
 * buffer (the C++ layer in megaswift/sdk/tokenizer.hpp does this). For encode, a capacity of (text
 * bytes + 16) ids is enough for any valid UTF-8 text that normalization does not lengthen, which is
 * nearly all text.
 *
 * Threading: an instance is immutable after create. encode, decode, encode_batch and the lookups
 * may be called concurrently from any number of threads on one instance. A stream decoder belongs
 * to one thread at a time.
 */
#ifndef MEGASWIFT_C_TOKENIZER_H
#define MEGASWIFT_C_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

MSW_EXTERN_C_BEGIN

/* Flags of encode and encode_batch (a bit set). */
enum {
  /* Special tokens written in the text ("<|im_end|>") are tokenized as ordinary text instead of
   * becoming their ids; added tokens that are not special still match. Hugging Face's default (no
   * flag) matches them, which is what chat templates rely on; set this to tokenize untrusted user
   * text. (HF: split_special_tokens=True.) */
  MSW_TOKENIZER_SPLIT_SPECIAL_TOKENS = 1
};

/* Flags of decode and stream_create. */
enum {
  /* Special tokens (bos, eos, pad, <|im_start|>, ...) produce no text. */
  MSW_TOKENIZER_SKIP_SPECIAL_TOKENS = 1
};

/* Which special token special_token_id() returns. */
typedef enum msw_tokenizer_special {
  MSW_TOKENIZER_BOS = 0,
  MSW_TOKENIZER_EOS = 1,
  MSW_TOKENIZER_PAD = 2,
  MSW_TOKENIZER_UNK = 3
} msw_tokenizer_special;

/* An incremental decoder for streaming output; opaque, owned by the caller until stream_destroy. */
typedef struct msw_tokenizer_stream msw_tokenizer_stream;

typedef struct msw_tokenizer_vtable {
  uint32_t struct_size;

  /* OPTIONAL. How well this plugin reads the tokenizer files in `model_dir` (tokenizer.json,
   * tokenizer_config.json, tokenizer.model, ...): 0 (not at all) to 100. The host picks the plugin with
   * the highest score for a model directory; a plugin without probe is chosen only by name. */
  int32_t (*probe)(const char* model_dir);

  /* REQUIRED. config_json: {"model_dir": "<dir with tokenizer.json and tokenizer_config.json>"} or
   * {"tokenizer_json": "<path>", "tokenizer_config_json": "<path, optional>"}. A missing or malformed
   * file is an error naming the file and the field. The instance is owned by the caller until
   * destroy; the config string is only read during the call. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. Frees the instance; every stream made from it must be destroyed first. */
  void (*destroy)(void* self);

  /* REQUIRED. Tokenizes `text` (`len` bytes) without adding bos/eos (templates add those):
   * the ids of HF's tokenizer.encode(text, add_special_tokens=False). MSW buffer protocol into
   * `ids` (capacity elements). */
  msw_status* (*encode)(const void* self, const char* text, size_t len, uint32_t flags, int32_t* ids,
                        size_t capacity, size_t* out_needed);

  /* REQUIRED. Tokenizes `count` texts on up to `num_threads` threads (<= 0 means 1). The ids of text
   * i go to ids[offsets[i] .. offsets[i+1]). `offsets` is caller-provided with count + 1 elements and
   * filled whenever ids is (the same protocol: both only when the total fits). Results equal encode's. */
  msw_status* (*encode_batch)(const void* self, const char* const* texts, const size_t* lens, size_t count,
                              uint32_t flags, int32_t num_threads, int32_t* ids, size_t capacity,
                              size_t* offsets, size_t* out_needed);

  /* REQUIRED. Writes the UTF-8 text of `count` ids into `text`, NUL-terminated, MSW buffer protocol
   * (*out_needed counts the NUL). Ids without a token (e.g. padding rows of an embedding table larger than the
   * vocabulary) produce no text, as in HF tokenizers. */
  msw_status* (*decode)(const void* self, const int32_t* ids, size_t count, uint32_t flags, char* text,
                        size_t capacity, size_t* out_needed);

  /* REQUIRED. One more than the largest id (model vocabulary and added tokens), i.e. the rows an
   * embedding table needs; len(tokenizer) in transformers. */
  int32_t (*vocab_size)(const void* self);

  /* REQUIRED. The id of a token string as stored in the vocabulary (byte-level tokens in their
   * mapped form, e.g. "Ġthe"; added tokens as written, e.g. "<|im_end|>"); -1 when unknown. */
  int32_t (*token_to_id)(const void* self, const char* token, size_t len);
  /* REQUIRED. The token string of an id, or NULL when the id is unknown. The string is owned by the
   * instance and valid until destroy; *out_len receives its length (it is also NUL-terminated). */
  const char* (*id_to_token)(const void* self, int32_t id, size_t* out_len);

  /* REQUIRED. The id of a special token from tokenizer_config.json (bos_token, eos_token, pad_token,
   * unk_token; e.g. eos "<|im_end|>" and pad "<|endoftext|>" for Qwen2.5-Instruct), or -1 when the
   * tokenizer has none. `which` is a msw_tokenizer_special. */
  int32_t (*special_token_id)(const void* self, int32_t which);
  /* REQUIRED. 1 when `id` is a special token (skipped by MSW_TOKENIZER_SKIP_SPECIAL_TOKENS), else 0. */
  int32_t (*is_special)(const void* self, int32_t id);

  /* REQUIRED. Creates a stream decoder for one generated sequence; flags as decode's. Owned by the
   * caller until stream_destroy. */
  msw_status* (*stream_create)(const void* self, uint32_t flags, msw_tokenizer_stream** out_stream);
  /* REQUIRED. NULL is allowed. */
  void (*stream_destroy)(msw_tokenizer_stream* stream);
  /* REQUIRED. Feeds one id. *out_text receives the text that became complete with it: only whole
   * UTF-8 characters, never part of one (possibly empty, when the id ends inside a character). The
   * text is owned by the stream and valid until the next call on it. Concatenating every step's
   * text and the final flush gives exactly decode() of all the ids. */
  msw_status* (*stream_step)(msw_tokenizer_stream* stream, int32_t id, const char** out_text, size_t* out_len);
  /* REQUIRED. Ends the sequence: returns what is still held back (an incomplete character becomes
   * U+FFFD, as decode does) and resets the stream for a new sequence. Text valid as for stream_step. */
  msw_status* (*stream_flush)(msw_tokenizer_stream* stream, const char** out_text, size_t* out_len);
} msw_tokenizer_vtable;

static inline const char* msw_tokenizer_vtable_missing_required(const msw_tokenizer_vtable* vt) {
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->encode) return "encode";
  if (!vt->encode_batch) return "encode_batch";
  if (!vt->decode) return "decode";
  if (!vt->vocab_size) return "vocab_size";
  if (!vt->token_to_id) return "token_to_id";
  if (!vt->id_to_token) return "id_to_token";
  if (!vt->special_token_id) return "special_token_id";
  if (!vt->is_special) return "is_special";
  if (!vt->stream_create) return "stream_create";
  if (!vt->stream_destroy) return "stream_destroy";
  if (!vt->stream_step) return "stream_step";
  if (!vt->stream_flush) return "stream_flush";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_TOKENIZER_H */
