/* Template plugins (kind MSW_KIND_TEMPLATE): how a conversation becomes the text a model is trained
 * on or prompted with. Chosen with --template, else the model plugin's default; `megatron pt` uses the
 * generative template. First-party: qwen, qwen2_5, qwen3, llama3, default, generative.
 *
 * A template does not tokenize. render() turns one conversation into an ordered list of segments that
 * tile the rendered text; each segment says what it is (plain text, one special token, or a
 * placeholder for the tokenizer's BOS/EOS) and its loss weight. The host's encoder tokenizes the
 * segments with the tokenizer plugin and builds input_ids and labels (-100 where the weight is 0).
 *
 * Tokenization contract (the encoder's side, stated here so template authors place boundaries
 * right): the encoder concatenates each maximal run of adjacent TEXT segments that have the same loss
 * weight and tokenizes the run as one string; a SPECIAL segment becomes exactly one token. So a
 * template may split text wherever it likes within a run; the only boundaries that reach the
 * tokenizer are special tokens and changes of loss weight (as in ms-swift, which tokenizes each run of
 * equal loss scale separately).
 *
 * Conversation JSON (UTF-8):
 *   {"messages": [{"role": "system"|"user"|"assistant"|"tool_call"|"tool_response", "content": "<text>",
 *                  "loss": <optional: true|false|null|number>, "loss_scale": <optional number>}, ...],
 *    "system": <optional string: the row's system prompt, when it is not a leading system message>}
 *   or, for pre-training text, {"text": "<text>"} (the same as one assistant message).
 *   The roles are ms-swift's (and the datasets library's): a "tool_call" message is a call the assistant
 *   makes (its content is the call, usually JSON text such as {"name": ..., "arguments": {...}}); it is
 *   part of the assistant's turn (adjacent assistant and tool_call messages form one turn), written in the
 *   template's agent format, and trained on like assistant text. A "tool_response" message is what the
 *   tool returned; it carries no loss (except under loss_scale "all"). "tool" is accepted as an alias of
 *   "tool_response" (the 2.x name).
 *   First-party agent formats: qwen, qwen2_5 and qwen3 use hermes, as Qwen's HF chat templates do
 *   (<tool_call>\n{"name": ..., "arguments": ...}\n</tool_call> in the assistant's turn; each result as
 *   <tool_response>\n...\n</tool_response> in a user turn); llama3, default and generative have none.
 *   A system message may only come first. "loss" on an assistant or tool_call message overrides the
 *   loss_scale strategy for that message (false or 0: no loss; true: loss; a number > 0: loss with that
 *   weight); on other roles it is ignored, as in ms-swift. Templates that cannot render a role (tool_call
 *   or tool_response in a template without an agent format) fail with MSW_STATUS_UNSUPPORTED naming the
 *   message and the template.
 *
 * Options JSON (each key optional; the create() config holds defaults for the same keys, and the
 * options of one render call override them):
 *   "system"                 string|null  --system: replaces the template's default system prompt.
 *                                         A system message or "system" key in the conversation wins.
 *   "loss_scale"             "default" (every assistant turn and its end-of-turn tokens), "last_round"
 *                            (only what follows the last user message), "all" (every token); may end
 *                            in "+ignore_empty_think" (an empty think block at a response's start
 *                            carries no loss; on by default for hybrid-thinking templates).
 *   "disable_ignore_empty_think" bool     --disable_ignore_empty_think.
 *   "add_generation_prompt"  bool         false (training): the conversation must end with an
 *                                         assistant message, which is closed by the end-of-turn
 *                                         suffix. true (inference): it must end with a user message,
 *                                         and the text ends with the assistant header (plus the
 *                                         response prefix) for the model to continue.
 *   "enable_thinking"        bool         inference on hybrid-thinking templates (qwen3): false (the
 *                                         default) prefixes the answer with an empty think block.
 *   "response_prefix"        string       inference: text appended after the assistant header.
 *   "add_non_thinking_prefix" bool        training on hybrid-thinking templates: prefix responses
 *                                         that do not start with "<think>" with the empty think block
 *                                         (default true).
 *   "preserve_thinking"      bool|null    keep the think blocks of earlier assistant turns (default:
 *                                         kept when training with loss_scale other than last_round).
 *   "eos_token"              string       the tokenizer's EOS text; a final response that already ends
 *                                         with it (or another stop word) gets no suffix.
 * Unknown keys are ignored, so a host may pass one options object to every template.
 */
#ifndef MEGASWIFT_C_TEMPLATE_H
#define MEGASWIFT_C_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "host.h"

MSW_EXTERN_C_BEGIN

typedef enum msw_template_segment_kind {
  /* Text to tokenize (see the run rule above). */
  MSW_TEMPLATE_SEGMENT_TEXT = 0,
  /* The literal text of exactly one special token, e.g. "<|im_end|>"; the encoder fails when the
   * tokenizer has no such single token (a template used with the wrong model). */
  MSW_TEMPLATE_SEGMENT_SPECIAL = 1,
  /* No text: the tokens the tokenizer itself puts before a text when asked to add special tokens
   * (Hugging Face add_special_tokens=True), possibly none. ms-swift's auto_add_bos. */
  MSW_TEMPLATE_SEGMENT_BOS = 2,
  /* No text: the tokenizer's EOS token. */
  MSW_TEMPLATE_SEGMENT_EOS = 3
} msw_template_segment_kind;

/* A record: arrays of it travel with their element size. */
typedef struct msw_template_segment {
  uint32_t struct_size;
  int32_t kind;          /* msw_template_segment_kind */
  uint64_t text_offset;  /* byte offset of this segment's text in the text buffer */
  uint64_t text_size;    /* bytes; 0 for BOS and EOS */
  float loss_weight;     /* 0: no loss (labels -100); > 0: trained on, with this weight (1 normally) */
  int32_t message_index; /* the conversation message this text comes from; -1 for template text */
} msw_template_segment;

/* Arguments and results of render(). */
typedef struct msw_render_args {
  MSW_ARGS_HEADER;
  const char* conversation_json;
  const char* options_json;        /* may be NULL */
  msw_template_segment* segments;  /* segment_capacity records of segment_size bytes (the caller's sizeof) */
  size_t segment_capacity;
  size_t segment_size;
  size_t* segment_count;           /* always set on success */
  char* text;                      /* text_capacity bytes; the rendered text, NUL-terminated */
  size_t text_capacity;
  size_t* text_needed;             /* bytes including the NUL, always set on success */
} msw_render_args;

typedef struct msw_template_vtable {
  uint32_t struct_size;
  /* REQUIRED. config_json: defaults for the render options (see above), may be "{}" or NULL.
   * The instance is owned by the caller until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. */
  void (*destroy)(void* self);
  /* REQUIRED. Renders one conversation. Safe to call from several threads at once on one instance.
   * MSW buffer protocol for both buffers together: on success the plugin always sets *segment_count and
   * *text_needed; it fills the segments and the text only when both fit, else it writes nothing and still
   * succeeds, and the caller grows its buffers and calls again. On failure (a malformed conversation or
   * options) it returns a status naming the message and the fix, and leaves the out-parameters untouched. */
  msw_status* (*render)(const void* self, const msw_render_args* args);
  /* REQUIRED. The template's own default system prompt, or NULL when it has none. Owned by the
   * instance, valid until destroy. */
  const char* (*default_system)(const void* self);
  /* REQUIRED. Stop words for generation, besides the tokenizer's EOS token (which the host always
   * adds): e.g. "<|im_end|>" and "<|endoftext|>" for qwen. Strings owned by the instance, valid until
   * destroy; stop_word(i) for i >= stop_word_count() returns NULL. */
  size_t (*stop_word_count)(const void* self);
  const char* (*stop_word)(const void* self, size_t index);
  /* REQUIRED. The token text that ends an assistant turn ("<|im_end|>", "<|eot_id|>"), or NULL when
   * the turn ends with the tokenizer's EOS token. Owned by the instance, valid until destroy. */
  const char* (*end_of_turn)(const void* self);
  /* REQUIRED. The Hugging Face config.json model_type values this template is meant for, a
   * NULL-terminated array (as msw_model_vtable.hf_model_types), or {"*", NULL} for any model. Static,
   * valid for the process. */
  const char* const* (*model_types)(const void* self);
} msw_template_vtable;

static inline const char* msw_template_vtable_missing_required(const msw_template_vtable* vt) {
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->render) return "render";
  if (!vt->default_system) return "default_system";
  if (!vt->stop_word_count) return "stop_word_count";
  if (!vt->stop_word) return "stop_word";
  if (!vt->end_of_turn) return "end_of_turn";
  if (!vt->model_types) return "model_types";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_TEMPLATE_H */
