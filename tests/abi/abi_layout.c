/* Freezes the ABI: the offset of every member of every struct in sdk/include/megaswift/c/, and the size
 * of every struct, on LP64 Linux. A reorder, a removal or a type change of any member fails to compile.
 * Appending an entry to a table (a new minor) adds lines and updates that table's size line only;
 * tools/print_layout.py prints the lines for a header. Compiled as C11 so the headers stay C-clean. */
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

#include <stddef.h>

_Static_assert(MSW_ABI_MAJOR == 1, "ABI major changed: a new major needs a new frozen layout file");
_Static_assert(MSW_MAX_DIMS == 8, "MSW_MAX_DIMS is part of the ABI");
_Static_assert(MSW_OPTIMIZER_MAX_STATES == 4, "MSW_OPTIMIZER_MAX_STATES is part of the ABI");
_Static_assert(MSW_DTYPE_F32 == 0 && MSW_DTYPE_F16 == 1 && MSW_DTYPE_BF16 == 2 && MSW_DTYPE_F64 == 3 &&
                   MSW_DTYPE_I8 == 4 && MSW_DTYPE_U8 == 5 && MSW_DTYPE_I32 == 6 && MSW_DTYPE_I64 == 7 &&
                   MSW_DTYPE_BOOL == 8,
               "dtype codes are frozen");
_Static_assert(MSW_DEVICE_CPU == 1 && MSW_DEVICE_CUDA == 2 && MSW_DEVICE_CUDA_HOST == 3, "DLPack device codes");
_Static_assert(MSW_KIND_MODEL == 1 && MSW_KIND_PARALLEL == 2 && MSW_KIND_OPTIMIZER == 3 && MSW_KIND_TOKENIZER == 4 &&
                   MSW_KIND_TEMPLATE == 5 && MSW_KIND_CHECKPOINT == 6,
               "plugin kind codes are frozen");
_Static_assert(MSW_STATUS_OK == 0 && MSW_STATUS_INVALID_ARGUMENT == 1 && MSW_STATUS_NOT_FOUND == 2 &&
                   MSW_STATUS_IO == 3 && MSW_STATUS_UNSUPPORTED == 4 && MSW_STATUS_SHAPE_MISMATCH == 5 &&
                   MSW_STATUS_OUT_OF_MEMORY == 6 && MSW_STATUS_VERSION_MISMATCH == 7 &&
                   MSW_STATUS_NUMERICAL == 8 && MSW_STATUS_INTERNAL == 9,
               "status codes are frozen");

/* The permanent prefix of msw_host_api and the frozen head of msw_plugin_desc never move, even across
 * majors (plugin.h): a plugin of another major reads them to report why it does not load. */
_Static_assert(offsetof(struct msw_host_api, log) == 56, "permanent prefix of msw_host_api moved");
_Static_assert(offsetof(struct msw_plugin_desc, version) == 24, "frozen head of msw_plugin_desc moved");

/* tensor.h: msw_device */
_Static_assert(sizeof(struct msw_device) == 8, "msw_device size");
_Static_assert(offsetof(struct msw_device, type) == 0, "msw_device.type moved");
_Static_assert(offsetof(struct msw_device, id) == 4, "msw_device.id moved");
/* tensor.h: msw_tensor */
_Static_assert(sizeof(struct msw_tensor) == 160, "msw_tensor size");
_Static_assert(offsetof(struct msw_tensor, data) == 0, "msw_tensor.data moved");
_Static_assert(offsetof(struct msw_tensor, device) == 8, "msw_tensor.device moved");
_Static_assert(offsetof(struct msw_tensor, dtype) == 16, "msw_tensor.dtype moved");
_Static_assert(offsetof(struct msw_tensor, ndim) == 20, "msw_tensor.ndim moved");
_Static_assert(offsetof(struct msw_tensor, shape) == 24, "msw_tensor.shape moved");
_Static_assert(offsetof(struct msw_tensor, strides) == 88, "msw_tensor.strides moved");
_Static_assert(offsetof(struct msw_tensor, byte_offset) == 152, "msw_tensor.byte_offset moved");
/* host.h: msw_exec_ctx */
_Static_assert(sizeof(struct msw_exec_ctx) == 72, "msw_exec_ctx size");
_Static_assert(offsetof(struct msw_exec_ctx, struct_size) == 0, "msw_exec_ctx.struct_size moved");
_Static_assert(offsetof(struct msw_exec_ctx, num_threads) == 4, "msw_exec_ctx.num_threads moved");
_Static_assert(offsetof(struct msw_exec_ctx, device) == 8, "msw_exec_ctx.device moved");
_Static_assert(offsetof(struct msw_exec_ctx, stream) == 16, "msw_exec_ctx.stream moved");
_Static_assert(offsetof(struct msw_exec_ctx, seed) == 24, "msw_exec_ctx.seed moved");
_Static_assert(offsetof(struct msw_exec_ctx, deterministic) == 32, "msw_exec_ctx.deterministic moved");
_Static_assert(offsetof(struct msw_exec_ctx, reserved0) == 36, "msw_exec_ctx.reserved0 moved");
_Static_assert(offsetof(struct msw_exec_ctx, tp_comm) == 40, "msw_exec_ctx.tp_comm moved");
_Static_assert(offsetof(struct msw_exec_ctx, cp_comm) == 48, "msw_exec_ctx.cp_comm moved");
_Static_assert(offsetof(struct msw_exec_ctx, dp_comm) == 56, "msw_exec_ctx.dp_comm moved");
_Static_assert(offsetof(struct msw_exec_ctx, pp_comm) == 64, "msw_exec_ctx.pp_comm moved");
/* host.h: msw_host_api */
_Static_assert(sizeof(struct msw_host_api) == 136, "msw_host_api size");
_Static_assert(offsetof(struct msw_host_api, struct_size) == 0, "msw_host_api.struct_size moved");
_Static_assert(offsetof(struct msw_host_api, abi_major) == 4, "msw_host_api.abi_major moved");
_Static_assert(offsetof(struct msw_host_api, abi_minor) == 8, "msw_host_api.abi_minor moved");
_Static_assert(offsetof(struct msw_host_api, reserved0) == 12, "msw_host_api.reserved0 moved");
_Static_assert(offsetof(struct msw_host_api, host_version) == 16, "msw_host_api.host_version moved");
_Static_assert(offsetof(struct msw_host_api, status_new) == 24, "msw_host_api.status_new moved");
_Static_assert(offsetof(struct msw_host_api, status_free) == 32, "msw_host_api.status_free moved");
_Static_assert(offsetof(struct msw_host_api, status_code) == 40, "msw_host_api.status_code moved");
_Static_assert(offsetof(struct msw_host_api, status_message) == 48, "msw_host_api.status_message moved");
_Static_assert(offsetof(struct msw_host_api, log) == 56, "msw_host_api.log moved");
_Static_assert(offsetof(struct msw_host_api, log_threshold) == 64, "msw_host_api.log_threshold moved");
_Static_assert(offsetof(struct msw_host_api, alloc) == 72, "msw_host_api.alloc moved");
_Static_assert(offsetof(struct msw_host_api, free) == 80, "msw_host_api.free moved");
_Static_assert(offsetof(struct msw_host_api, ops) == 88, "msw_host_api.ops moved");
_Static_assert(offsetof(struct msw_host_api, comm) == 96, "msw_host_api.comm moved");
_Static_assert(offsetof(struct msw_host_api, progress_begin) == 104, "msw_host_api.progress_begin moved");
_Static_assert(offsetof(struct msw_host_api, progress_advance) == 112, "msw_host_api.progress_advance moved");
_Static_assert(offsetof(struct msw_host_api, progress_end) == 120, "msw_host_api.progress_end moved");
_Static_assert(offsetof(struct msw_host_api, get_extension) == 128, "msw_host_api.get_extension moved");
/* plugin.h: msw_component */
_Static_assert(sizeof(struct msw_component) == 40, "msw_component size");
_Static_assert(offsetof(struct msw_component, struct_size) == 0, "msw_component.struct_size moved");
_Static_assert(offsetof(struct msw_component, kind) == 4, "msw_component.kind moved");
_Static_assert(offsetof(struct msw_component, name) == 8, "msw_component.name moved");
_Static_assert(offsetof(struct msw_component, version) == 16, "msw_component.version moved");
_Static_assert(offsetof(struct msw_component, summary) == 24, "msw_component.summary moved");
_Static_assert(offsetof(struct msw_component, vtable) == 32, "msw_component.vtable moved");
/* plugin.h: msw_plugin_desc */
_Static_assert(sizeof(struct msw_plugin_desc) == 48, "msw_plugin_desc size");
_Static_assert(offsetof(struct msw_plugin_desc, struct_size) == 0, "msw_plugin_desc.struct_size moved");
_Static_assert(offsetof(struct msw_plugin_desc, abi_major) == 4, "msw_plugin_desc.abi_major moved");
_Static_assert(offsetof(struct msw_plugin_desc, abi_minor) == 8, "msw_plugin_desc.abi_minor moved");
_Static_assert(offsetof(struct msw_plugin_desc, name) == 16, "msw_plugin_desc.name moved");
_Static_assert(offsetof(struct msw_plugin_desc, version) == 24, "msw_plugin_desc.version moved");
_Static_assert(offsetof(struct msw_plugin_desc, components) == 32, "msw_plugin_desc.components moved");
_Static_assert(offsetof(struct msw_plugin_desc, num_components) == 40, "msw_plugin_desc.num_components moved");
/* comm.h: msw_comm_api */
_Static_assert(sizeof(struct msw_comm_api) == 88, "msw_comm_api size");
_Static_assert(offsetof(struct msw_comm_api, struct_size) == 0, "msw_comm_api.struct_size moved");
_Static_assert(offsetof(struct msw_comm_api, rank) == 8, "msw_comm_api.rank moved");
_Static_assert(offsetof(struct msw_comm_api, size) == 16, "msw_comm_api.size moved");
_Static_assert(offsetof(struct msw_comm_api, all_reduce) == 24, "msw_comm_api.all_reduce moved");
_Static_assert(offsetof(struct msw_comm_api, reduce_scatter) == 32, "msw_comm_api.reduce_scatter moved");
_Static_assert(offsetof(struct msw_comm_api, all_gather) == 40, "msw_comm_api.all_gather moved");
_Static_assert(offsetof(struct msw_comm_api, broadcast) == 48, "msw_comm_api.broadcast moved");
_Static_assert(offsetof(struct msw_comm_api, send) == 56, "msw_comm_api.send moved");
_Static_assert(offsetof(struct msw_comm_api, recv) == 64, "msw_comm_api.recv moved");
_Static_assert(offsetof(struct msw_comm_api, barrier) == 72, "msw_comm_api.barrier moved");
_Static_assert(offsetof(struct msw_comm_api, wait) == 80, "msw_comm_api.wait moved");
/* parallel.h: msw_parallel_vtable */
_Static_assert(sizeof(struct msw_parallel_vtable) == 128, "msw_parallel_vtable size");
_Static_assert(offsetof(struct msw_parallel_vtable, struct_size) == 0, "msw_parallel_vtable.struct_size moved");
_Static_assert(offsetof(struct msw_parallel_vtable, create) == 8, "msw_parallel_vtable.create moved");
_Static_assert(offsetof(struct msw_parallel_vtable, destroy) == 16, "msw_parallel_vtable.destroy moved");
_Static_assert(offsetof(struct msw_parallel_vtable, world) == 24, "msw_parallel_vtable.world moved");
_Static_assert(offsetof(struct msw_parallel_vtable, split) == 32, "msw_parallel_vtable.split moved");
_Static_assert(offsetof(struct msw_parallel_vtable, comm_rank) == 40, "msw_parallel_vtable.comm_rank moved");
_Static_assert(offsetof(struct msw_parallel_vtable, comm_size) == 48, "msw_parallel_vtable.comm_size moved");
_Static_assert(offsetof(struct msw_parallel_vtable, all_reduce) == 56, "msw_parallel_vtable.all_reduce moved");
_Static_assert(offsetof(struct msw_parallel_vtable, reduce_scatter) == 64, "msw_parallel_vtable.reduce_scatter moved");
_Static_assert(offsetof(struct msw_parallel_vtable, all_gather) == 72, "msw_parallel_vtable.all_gather moved");
_Static_assert(offsetof(struct msw_parallel_vtable, broadcast) == 80, "msw_parallel_vtable.broadcast moved");
_Static_assert(offsetof(struct msw_parallel_vtable, send) == 88, "msw_parallel_vtable.send moved");
_Static_assert(offsetof(struct msw_parallel_vtable, recv) == 96, "msw_parallel_vtable.recv moved");
_Static_assert(offsetof(struct msw_parallel_vtable, barrier) == 104, "msw_parallel_vtable.barrier moved");
_Static_assert(offsetof(struct msw_parallel_vtable, wait) == 112, "msw_parallel_vtable.wait moved");
_Static_assert(offsetof(struct msw_parallel_vtable, supports_device) == 120, "msw_parallel_vtable.supports_device moved");
/* optimizer.h: msw_optimizer_param */
_Static_assert(sizeof(struct msw_optimizer_param) == 968, "msw_optimizer_param size");
_Static_assert(offsetof(struct msw_optimizer_param, param) == 0, "msw_optimizer_param.param moved");
_Static_assert(offsetof(struct msw_optimizer_param, grad) == 160, "msw_optimizer_param.grad moved");
_Static_assert(offsetof(struct msw_optimizer_param, state) == 320, "msw_optimizer_param.state moved");
_Static_assert(offsetof(struct msw_optimizer_param, apply_weight_decay) == 960, "msw_optimizer_param.apply_weight_decay moved");
_Static_assert(offsetof(struct msw_optimizer_param, reserved0) == 964, "msw_optimizer_param.reserved0 moved");
/* optimizer.h: msw_optimizer_step_args */
_Static_assert(sizeof(struct msw_optimizer_step_args) == 48, "msw_optimizer_step_args size");
_Static_assert(offsetof(struct msw_optimizer_step_args, struct_size) == 0, "msw_optimizer_step_args.struct_size moved");
_Static_assert(offsetof(struct msw_optimizer_step_args, reserved0) == 4, "msw_optimizer_step_args.reserved0 moved");
_Static_assert(offsetof(struct msw_optimizer_step_args, step) == 8, "msw_optimizer_step_args.step moved");
_Static_assert(offsetof(struct msw_optimizer_step_args, lr) == 16, "msw_optimizer_step_args.lr moved");
_Static_assert(offsetof(struct msw_optimizer_step_args, weight_decay) == 24, "msw_optimizer_step_args.weight_decay moved");
_Static_assert(offsetof(struct msw_optimizer_step_args, params) == 32, "msw_optimizer_step_args.params moved");
_Static_assert(offsetof(struct msw_optimizer_step_args, count) == 40, "msw_optimizer_step_args.count moved");
/* optimizer.h: msw_optimizer_vtable */
_Static_assert(sizeof(struct msw_optimizer_vtable) == 48, "msw_optimizer_vtable size");
_Static_assert(offsetof(struct msw_optimizer_vtable, struct_size) == 0, "msw_optimizer_vtable.struct_size moved");
_Static_assert(offsetof(struct msw_optimizer_vtable, create) == 8, "msw_optimizer_vtable.create moved");
_Static_assert(offsetof(struct msw_optimizer_vtable, destroy) == 16, "msw_optimizer_vtable.destroy moved");
_Static_assert(offsetof(struct msw_optimizer_vtable, state_count) == 24, "msw_optimizer_vtable.state_count moved");
_Static_assert(offsetof(struct msw_optimizer_vtable, state_name) == 32, "msw_optimizer_vtable.state_name moved");
_Static_assert(offsetof(struct msw_optimizer_vtable, step) == 40, "msw_optimizer_vtable.step moved");
/* checkpoint.h: msw_shard */
_Static_assert(sizeof(struct msw_shard) == 304, "msw_shard size");
_Static_assert(offsetof(struct msw_shard, key) == 0, "msw_shard.key moved");
_Static_assert(offsetof(struct msw_shard, ndim) == 8, "msw_shard.ndim moved");
_Static_assert(offsetof(struct msw_shard, replica_id) == 12, "msw_shard.replica_id moved");
_Static_assert(offsetof(struct msw_shard, global_shape) == 16, "msw_shard.global_shape moved");
_Static_assert(offsetof(struct msw_shard, global_offset) == 80, "msw_shard.global_offset moved");
_Static_assert(offsetof(struct msw_shard, data) == 144, "msw_shard.data moved");
/* checkpoint.h: msw_tensor_info */
_Static_assert(sizeof(struct msw_tensor_info) == 80, "msw_tensor_info size");
_Static_assert(offsetof(struct msw_tensor_info, key) == 0, "msw_tensor_info.key moved");
_Static_assert(offsetof(struct msw_tensor_info, dtype) == 8, "msw_tensor_info.dtype moved");
_Static_assert(offsetof(struct msw_tensor_info, ndim) == 12, "msw_tensor_info.ndim moved");
_Static_assert(offsetof(struct msw_tensor_info, global_shape) == 16, "msw_tensor_info.global_shape moved");
/* checkpoint.h: msw_checkpoint_vtable */
_Static_assert(sizeof(struct msw_checkpoint_vtable) == 104, "msw_checkpoint_vtable size");
_Static_assert(offsetof(struct msw_checkpoint_vtable, struct_size) == 0, "msw_checkpoint_vtable.struct_size moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, create) == 8, "msw_checkpoint_vtable.create moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, destroy) == 16, "msw_checkpoint_vtable.destroy moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, probe) == 24, "msw_checkpoint_vtable.probe moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, begin_save) == 32, "msw_checkpoint_vtable.begin_save moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, write_shards) == 40, "msw_checkpoint_vtable.write_shards moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, finish_save) == 48, "msw_checkpoint_vtable.finish_save moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, open) == 56, "msw_checkpoint_vtable.open moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, read_common) == 64, "msw_checkpoint_vtable.read_common moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, tensor_count) == 72, "msw_checkpoint_vtable.tensor_count moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, tensor_info) == 80, "msw_checkpoint_vtable.tensor_info moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, read_region) == 88, "msw_checkpoint_vtable.read_region moved");
_Static_assert(offsetof(struct msw_checkpoint_vtable, close) == 96, "msw_checkpoint_vtable.close moved");
/* template.h: msw_template_segment */
_Static_assert(sizeof(struct msw_template_segment) == 32, "msw_template_segment size");
_Static_assert(offsetof(struct msw_template_segment, text_offset) == 0, "msw_template_segment.text_offset moved");
_Static_assert(offsetof(struct msw_template_segment, text_size) == 8, "msw_template_segment.text_size moved");
_Static_assert(offsetof(struct msw_template_segment, kind) == 16, "msw_template_segment.kind moved");
_Static_assert(offsetof(struct msw_template_segment, loss_weight) == 20, "msw_template_segment.loss_weight moved");
_Static_assert(offsetof(struct msw_template_segment, message_index) == 24, "msw_template_segment.message_index moved");
_Static_assert(offsetof(struct msw_template_segment, reserved0) == 28, "msw_template_segment.reserved0 moved");
/* template.h: msw_template_vtable */
_Static_assert(sizeof(struct msw_template_vtable) == 72, "msw_template_vtable size");
_Static_assert(offsetof(struct msw_template_vtable, struct_size) == 0, "msw_template_vtable.struct_size moved");
_Static_assert(offsetof(struct msw_template_vtable, create) == 8, "msw_template_vtable.create moved");
_Static_assert(offsetof(struct msw_template_vtable, destroy) == 16, "msw_template_vtable.destroy moved");
_Static_assert(offsetof(struct msw_template_vtable, render) == 24, "msw_template_vtable.render moved");
_Static_assert(offsetof(struct msw_template_vtable, default_system) == 32, "msw_template_vtable.default_system moved");
_Static_assert(offsetof(struct msw_template_vtable, stop_word_count) == 40, "msw_template_vtable.stop_word_count moved");
_Static_assert(offsetof(struct msw_template_vtable, stop_word) == 48, "msw_template_vtable.stop_word moved");
_Static_assert(offsetof(struct msw_template_vtable, end_of_turn) == 56, "msw_template_vtable.end_of_turn moved");
_Static_assert(offsetof(struct msw_template_vtable, model_types) == 64, "msw_template_vtable.model_types moved");
/* tokenizer.h: msw_tokenizer_vtable */
_Static_assert(sizeof(struct msw_tokenizer_vtable) == 120, "msw_tokenizer_vtable size");
_Static_assert(offsetof(struct msw_tokenizer_vtable, struct_size) == 0, "msw_tokenizer_vtable.struct_size moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, create) == 8, "msw_tokenizer_vtable.create moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, destroy) == 16, "msw_tokenizer_vtable.destroy moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, encode) == 24, "msw_tokenizer_vtable.encode moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, encode_batch) == 32, "msw_tokenizer_vtable.encode_batch moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, decode) == 40, "msw_tokenizer_vtable.decode moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, vocab_size) == 48, "msw_tokenizer_vtable.vocab_size moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, token_to_id) == 56, "msw_tokenizer_vtable.token_to_id moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, id_to_token) == 64, "msw_tokenizer_vtable.id_to_token moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, special_token_id) == 72, "msw_tokenizer_vtable.special_token_id moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, is_special) == 80, "msw_tokenizer_vtable.is_special moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, stream_create) == 88, "msw_tokenizer_vtable.stream_create moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, stream_destroy) == 96, "msw_tokenizer_vtable.stream_destroy moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, stream_step) == 104, "msw_tokenizer_vtable.stream_step moved");
_Static_assert(offsetof(struct msw_tokenizer_vtable, stream_flush) == 112, "msw_tokenizer_vtable.stream_flush moved");
/* ops.h: msw_rope_config */
_Static_assert(sizeof(struct msw_rope_config) == 120, "msw_rope_config size");
_Static_assert(offsetof(struct msw_rope_config, struct_size) == 0, "msw_rope_config.struct_size moved");
_Static_assert(offsetof(struct msw_rope_config, scaling) == 4, "msw_rope_config.scaling moved");
_Static_assert(offsetof(struct msw_rope_config, theta) == 8, "msw_rope_config.theta moved");
_Static_assert(offsetof(struct msw_rope_config, head_dim) == 16, "msw_rope_config.head_dim moved");
_Static_assert(offsetof(struct msw_rope_config, partial_rotary_factor) == 24, "msw_rope_config.partial_rotary_factor moved");
_Static_assert(offsetof(struct msw_rope_config, max_position_embeddings) == 32, "msw_rope_config.max_position_embeddings moved");
_Static_assert(offsetof(struct msw_rope_config, factor) == 40, "msw_rope_config.factor moved");
_Static_assert(offsetof(struct msw_rope_config, original_max_position_embeddings) == 48, "msw_rope_config.original_max_position_embeddings moved");
_Static_assert(offsetof(struct msw_rope_config, low_freq_factor) == 56, "msw_rope_config.low_freq_factor moved");
_Static_assert(offsetof(struct msw_rope_config, high_freq_factor) == 64, "msw_rope_config.high_freq_factor moved");
_Static_assert(offsetof(struct msw_rope_config, beta_fast) == 72, "msw_rope_config.beta_fast moved");
_Static_assert(offsetof(struct msw_rope_config, beta_slow) == 80, "msw_rope_config.beta_slow moved");
_Static_assert(offsetof(struct msw_rope_config, mscale) == 88, "msw_rope_config.mscale moved");
_Static_assert(offsetof(struct msw_rope_config, mscale_all_dim) == 96, "msw_rope_config.mscale_all_dim moved");
_Static_assert(offsetof(struct msw_rope_config, attention_factor) == 104, "msw_rope_config.attention_factor moved");
_Static_assert(offsetof(struct msw_rope_config, has_attention_factor) == 112, "msw_rope_config.has_attention_factor moved");
_Static_assert(offsetof(struct msw_rope_config, truncate) == 116, "msw_rope_config.truncate moved");
/* ops.h: msw_cross_entropy_result */
_Static_assert(sizeof(struct msw_cross_entropy_result) == 24, "msw_cross_entropy_result size");
_Static_assert(offsetof(struct msw_cross_entropy_result, loss) == 0, "msw_cross_entropy_result.loss moved");
_Static_assert(offsetof(struct msw_cross_entropy_result, loss_sum) == 8, "msw_cross_entropy_result.loss_sum moved");
_Static_assert(offsetof(struct msw_cross_entropy_result, count) == 16, "msw_cross_entropy_result.count moved");
/* ops.h: msw_ops_api */
_Static_assert(sizeof(struct msw_ops_api) == 240, "msw_ops_api size");
_Static_assert(offsetof(struct msw_ops_api, struct_size) == 0, "msw_ops_api.struct_size moved");
_Static_assert(offsetof(struct msw_ops_api, reserved0) == 4, "msw_ops_api.reserved0 moved");
_Static_assert(offsetof(struct msw_ops_api, fill) == 8, "msw_ops_api.fill moved");
_Static_assert(offsetof(struct msw_ops_api, copy) == 16, "msw_ops_api.copy moved");
_Static_assert(offsetof(struct msw_ops_api, add) == 24, "msw_ops_api.add moved");
_Static_assert(offsetof(struct msw_ops_api, accumulate) == 32, "msw_ops_api.accumulate moved");
_Static_assert(offsetof(struct msw_ops_api, scale) == 40, "msw_ops_api.scale moved");
_Static_assert(offsetof(struct msw_ops_api, sum_squares) == 48, "msw_ops_api.sum_squares moved");
_Static_assert(offsetof(struct msw_ops_api, gemm) == 56, "msw_ops_api.gemm moved");
_Static_assert(offsetof(struct msw_ops_api, linear_forward) == 64, "msw_ops_api.linear_forward moved");
_Static_assert(offsetof(struct msw_ops_api, linear_backward) == 72, "msw_ops_api.linear_backward moved");
_Static_assert(offsetof(struct msw_ops_api, embedding_forward) == 80, "msw_ops_api.embedding_forward moved");
_Static_assert(offsetof(struct msw_ops_api, embedding_backward) == 88, "msw_ops_api.embedding_backward moved");
_Static_assert(offsetof(struct msw_ops_api, rmsnorm_forward) == 96, "msw_ops_api.rmsnorm_forward moved");
_Static_assert(offsetof(struct msw_ops_api, rmsnorm_backward) == 104, "msw_ops_api.rmsnorm_backward moved");
_Static_assert(offsetof(struct msw_ops_api, layernorm_forward) == 112, "msw_ops_api.layernorm_forward moved");
_Static_assert(offsetof(struct msw_ops_api, layernorm_backward) == 120, "msw_ops_api.layernorm_backward moved");
_Static_assert(offsetof(struct msw_ops_api, rope_rotary_dim) == 128, "msw_ops_api.rope_rotary_dim moved");
_Static_assert(offsetof(struct msw_ops_api, rope_tables) == 136, "msw_ops_api.rope_tables moved");
_Static_assert(offsetof(struct msw_ops_api, rope_forward) == 144, "msw_ops_api.rope_forward moved");
_Static_assert(offsetof(struct msw_ops_api, rope_backward) == 152, "msw_ops_api.rope_backward moved");
_Static_assert(offsetof(struct msw_ops_api, qkv_split_forward) == 160, "msw_ops_api.qkv_split_forward moved");
_Static_assert(offsetof(struct msw_ops_api, qkv_split_backward) == 168, "msw_ops_api.qkv_split_backward moved");
_Static_assert(offsetof(struct msw_ops_api, attention_forward) == 176, "msw_ops_api.attention_forward moved");
_Static_assert(offsetof(struct msw_ops_api, attention_backward) == 184, "msw_ops_api.attention_backward moved");
_Static_assert(offsetof(struct msw_ops_api, swiglu_forward) == 192, "msw_ops_api.swiglu_forward moved");
_Static_assert(offsetof(struct msw_ops_api, swiglu_backward) == 200, "msw_ops_api.swiglu_backward moved");
_Static_assert(offsetof(struct msw_ops_api, gelu_forward) == 208, "msw_ops_api.gelu_forward moved");
_Static_assert(offsetof(struct msw_ops_api, gelu_backward) == 216, "msw_ops_api.gelu_backward moved");
_Static_assert(offsetof(struct msw_ops_api, cross_entropy_forward) == 224, "msw_ops_api.cross_entropy_forward moved");
_Static_assert(offsetof(struct msw_ops_api, cross_entropy_backward) == 232, "msw_ops_api.cross_entropy_backward moved");
/* model.h: msw_param_info */
_Static_assert(sizeof(struct msw_param_info) == 112, "msw_param_info size");
_Static_assert(offsetof(struct msw_param_info, name) == 0, "msw_param_info.name moved");
_Static_assert(offsetof(struct msw_param_info, ndim) == 8, "msw_param_info.ndim moved");
_Static_assert(offsetof(struct msw_param_info, tp_split) == 12, "msw_param_info.tp_split moved");
_Static_assert(offsetof(struct msw_param_info, shape) == 16, "msw_param_info.shape moved");
_Static_assert(offsetof(struct msw_param_info, tp_split_dim) == 80, "msw_param_info.tp_split_dim moved");
_Static_assert(offsetof(struct msw_param_info, layer) == 84, "msw_param_info.layer moved");
_Static_assert(offsetof(struct msw_param_info, parts) == 88, "msw_param_info.parts moved");
_Static_assert(offsetof(struct msw_param_info, init) == 92, "msw_param_info.init moved");
_Static_assert(offsetof(struct msw_param_info, init_std) == 96, "msw_param_info.init_std moved");
_Static_assert(offsetof(struct msw_param_info, weight_decay) == 104, "msw_param_info.weight_decay moved");
_Static_assert(offsetof(struct msw_param_info, reserved0) == 108, "msw_param_info.reserved0 moved");
/* model.h: msw_hf_mapping */
_Static_assert(sizeof(struct msw_hf_mapping) == 320, "msw_hf_mapping size");
_Static_assert(offsetof(struct msw_hf_mapping, megatron_name) == 0, "msw_hf_mapping.megatron_name moved");
_Static_assert(offsetof(struct msw_hf_mapping, transform) == 8, "msw_hf_mapping.transform moved");
_Static_assert(offsetof(struct msw_hf_mapping, num_hf) == 12, "msw_hf_mapping.num_hf moved");
_Static_assert(offsetof(struct msw_hf_mapping, hf_names) == 16, "msw_hf_mapping.hf_names moved");
_Static_assert(offsetof(struct msw_hf_mapping, hf_ndim) == 48, "msw_hf_mapping.hf_ndim moved");
/* model.h: msw_model_info */
_Static_assert(sizeof(struct msw_model_info) == 48, "msw_model_info size");
_Static_assert(offsetof(struct msw_model_info, struct_size) == 0, "msw_model_info.struct_size moved");
_Static_assert(offsetof(struct msw_model_info, activation_dtype) == 4, "msw_model_info.activation_dtype moved");
_Static_assert(offsetof(struct msw_model_info, num_layers) == 8, "msw_model_info.num_layers moved");
_Static_assert(offsetof(struct msw_model_info, hidden_size) == 16, "msw_model_info.hidden_size moved");
_Static_assert(offsetof(struct msw_model_info, vocab_size) == 24, "msw_model_info.vocab_size moved");
_Static_assert(offsetof(struct msw_model_info, padded_vocab_size) == 32, "msw_model_info.padded_vocab_size moved");
_Static_assert(offsetof(struct msw_model_info, max_position_embeddings) == 40, "msw_model_info.max_position_embeddings moved");
/* model.h: msw_model_shape */
_Static_assert(sizeof(struct msw_model_shape) == 24, "msw_model_shape size");
_Static_assert(offsetof(struct msw_model_shape, struct_size) == 0, "msw_model_shape.struct_size moved");
_Static_assert(offsetof(struct msw_model_shape, reserved0) == 4, "msw_model_shape.reserved0 moved");
_Static_assert(offsetof(struct msw_model_shape, batch_size) == 8, "msw_model_shape.batch_size moved");
_Static_assert(offsetof(struct msw_model_shape, seq_len) == 16, "msw_model_shape.seq_len moved");
/* model.h: msw_model_memory */
_Static_assert(sizeof(struct msw_model_memory) == 40, "msw_model_memory size");
_Static_assert(offsetof(struct msw_model_memory, struct_size) == 0, "msw_model_memory.struct_size moved");
_Static_assert(offsetof(struct msw_model_memory, reserved0) == 4, "msw_model_memory.reserved0 moved");
_Static_assert(offsetof(struct msw_model_memory, embedding_saved) == 8, "msw_model_memory.embedding_saved moved");
_Static_assert(offsetof(struct msw_model_memory, layer_saved) == 16, "msw_model_memory.layer_saved moved");
_Static_assert(offsetof(struct msw_model_memory, head_saved) == 24, "msw_model_memory.head_saved moved");
_Static_assert(offsetof(struct msw_model_memory, workspace) == 32, "msw_model_memory.workspace moved");
/* model.h: msw_model_batch */
_Static_assert(sizeof(struct msw_model_batch) == 504, "msw_model_batch size");
_Static_assert(offsetof(struct msw_model_batch, struct_size) == 0, "msw_model_batch.struct_size moved");
_Static_assert(offsetof(struct msw_model_batch, reserved0) == 4, "msw_model_batch.reserved0 moved");
_Static_assert(offsetof(struct msw_model_batch, batch_size) == 8, "msw_model_batch.batch_size moved");
_Static_assert(offsetof(struct msw_model_batch, seq_len) == 16, "msw_model_batch.seq_len moved");
_Static_assert(offsetof(struct msw_model_batch, input_ids) == 24, "msw_model_batch.input_ids moved");
_Static_assert(offsetof(struct msw_model_batch, position_ids) == 184, "msw_model_batch.position_ids moved");
_Static_assert(offsetof(struct msw_model_batch, labels) == 344, "msw_model_batch.labels moved");
/* model.h: msw_model_loss */
_Static_assert(sizeof(struct msw_model_loss) == 16, "msw_model_loss size");
_Static_assert(offsetof(struct msw_model_loss, loss_sum) == 0, "msw_model_loss.loss_sum moved");
_Static_assert(offsetof(struct msw_model_loss, token_count) == 8, "msw_model_loss.token_count moved");
/* model.h: msw_model_vtable */
_Static_assert(sizeof(struct msw_model_vtable) == 168, "msw_model_vtable size");
_Static_assert(offsetof(struct msw_model_vtable, struct_size) == 0, "msw_model_vtable.struct_size moved");
_Static_assert(offsetof(struct msw_model_vtable, hf_model_types) == 8, "msw_model_vtable.hf_model_types moved");
_Static_assert(offsetof(struct msw_model_vtable, config_from_hf) == 16, "msw_model_vtable.config_from_hf moved");
_Static_assert(offsetof(struct msw_model_vtable, create) == 24, "msw_model_vtable.create moved");
_Static_assert(offsetof(struct msw_model_vtable, destroy) == 32, "msw_model_vtable.destroy moved");
_Static_assert(offsetof(struct msw_model_vtable, describe) == 40, "msw_model_vtable.describe moved");
_Static_assert(offsetof(struct msw_model_vtable, config_json) == 48, "msw_model_vtable.config_json moved");
_Static_assert(offsetof(struct msw_model_vtable, config_to_hf) == 56, "msw_model_vtable.config_to_hf moved");
_Static_assert(offsetof(struct msw_model_vtable, param_count) == 64, "msw_model_vtable.param_count moved");
_Static_assert(offsetof(struct msw_model_vtable, param_info) == 72, "msw_model_vtable.param_info moved");
_Static_assert(offsetof(struct msw_model_vtable, hf_mapping_count) == 80, "msw_model_vtable.hf_mapping_count moved");
_Static_assert(offsetof(struct msw_model_vtable, hf_mapping) == 88, "msw_model_vtable.hf_mapping moved");
_Static_assert(offsetof(struct msw_model_vtable, hf_to_megatron) == 96, "msw_model_vtable.hf_to_megatron moved");
_Static_assert(offsetof(struct msw_model_vtable, megatron_to_hf) == 104, "msw_model_vtable.megatron_to_hf moved");
_Static_assert(offsetof(struct msw_model_vtable, memory) == 112, "msw_model_vtable.memory moved");
_Static_assert(offsetof(struct msw_model_vtable, embedding_forward) == 120, "msw_model_vtable.embedding_forward moved");
_Static_assert(offsetof(struct msw_model_vtable, embedding_backward) == 128, "msw_model_vtable.embedding_backward moved");
_Static_assert(offsetof(struct msw_model_vtable, layer_forward) == 136, "msw_model_vtable.layer_forward moved");
_Static_assert(offsetof(struct msw_model_vtable, layer_backward) == 144, "msw_model_vtable.layer_backward moved");
_Static_assert(offsetof(struct msw_model_vtable, head_forward) == 152, "msw_model_vtable.head_forward moved");
_Static_assert(offsetof(struct msw_model_vtable, head_backward) == 160, "msw_model_vtable.head_backward moved");
