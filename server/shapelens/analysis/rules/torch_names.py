"""The attribute names torch's modules have, for ``hasattr(module, name)`` (interp/members.py):
``MODULE``, what every ``nn.Module`` has; ``CONTAINER``, what Sequential, ModuleList and
ModuleDict add; ``LAYER``, what some other torch.nn class may have (its methods, and the
names its source sets on ``self`` or registers).  A name in none of them, and not one that
torch makes at run time (``weight_ih_l0`` of an LSTM, ``weight_g`` of weight_norm), is an
attribute no torch module has unless the program sets it.

Made from the installed torch by ``python tests/rules/torch_names_source.py``;
tests/rules/test_torch_names.py checks them against torch.
"""
from __future__ import annotations

import re

MODULE = frozenset({
    'T_destination', '__annotations__', '__call__', '__class__', '__delattr__', '__dict__',
    '__dir__', '__doc__', '__eq__', '__format__', '__ge__', '__getattr__', '__getattribute__',
    '__getstate__', '__gt__', '__hash__', '__init__', '__init_subclass__', '__le__', '__lt__',
    '__module__', '__ne__', '__new__', '__reduce__', '__reduce_ex__', '__repr__', '__setattr__',
    '__setstate__', '__sizeof__', '__str__', '__subclasshook__', '__weakref__', '_apply',
    '_backward_hooks', '_backward_pre_hooks', '_buffers', '_call_impl', '_compiled_call_impl',
    '_forward_hooks', '_forward_hooks_always_called', '_forward_hooks_with_kwargs',
    '_forward_pre_hooks', '_forward_pre_hooks_with_kwargs', '_get_backward_hooks',
    '_get_backward_pre_hooks', '_get_name', '_is_full_backward_hook', '_load_from_state_dict',
    '_load_state_dict_post_hooks', '_load_state_dict_pre_hooks',
    '_maybe_warn_non_full_backward_hook', '_modules', '_named_members',
    '_non_persistent_buffers_set', '_parameters', '_register_load_state_dict_pre_hook',
    '_register_state_dict_hook', '_replicate_for_data_parallel', '_save_to_state_dict',
    '_slow_forward', '_state_dict_hooks', '_state_dict_pre_hooks', '_version',
    '_wrapped_call_impl', 'add_module', 'apply', 'bfloat16', 'buffers', 'call_super_init',
    'children', 'compile', 'cpu', 'cuda', 'double', 'dump_patches', 'eval', 'extra_repr', 'float',
    'forward', 'get_buffer', 'get_extra_state', 'get_parameter', 'get_submodule', 'half', 'ipu',
    'load_state_dict', 'modules', 'mtia', 'named_buffers', 'named_children', 'named_modules',
    'named_parameters', 'parameters', 'register_backward_hook', 'register_buffer',
    'register_forward_hook', 'register_forward_pre_hook', 'register_full_backward_hook',
    'register_full_backward_pre_hook', 'register_load_state_dict_post_hook',
    'register_load_state_dict_pre_hook', 'register_module', 'register_parameter',
    'register_state_dict_post_hook', 'register_state_dict_pre_hook', 'requires_grad_',
    'set_extra_state', 'set_submodule', 'share_memory', 'state_dict', 'to', 'to_empty', 'train',
    'training', 'type', 'xpu', 'zero_grad',
})

CONTAINER = frozenset({
    '__add__', '__contains__', '__delitem__', '__getitem__', '__iadd__', '__imul__', '__ior__',
    '__iter__', '__len__', '__mul__', '__or__', '__reversed__', '__rmul__', '__ror__',
    '__setitem__', '_get_abs_string_index', '_get_item_by_idx', '_key_to_attr', '_keys', '_size',
    'append', 'clear', 'copy', 'extend', 'fromkeys', 'get', 'insert', 'items', 'keys', 'pop',
    'popitem', 'setdefault', 'update', 'values',
})

LAYER = frozenset({
    '__class_getitem__', '__constants__', '__deprecated__', '__jit_unused_properties__',
    '__orig_bases__', '__parameters__', '__slots__', '_all_weights', '_apply_instance_norm',
    '_check_input_dim', '_check_non_zero_input_channels', '_conv_forward', '_ff_block',
    '_fill_padding_idx_with_zero', '_flat_weight_refs', '_flat_weights', '_flat_weights_names',
    '_get_full_log_prob', '_get_in_channels', '_get_no_batch_dim', '_get_num_spatial_dims',
    '_handle_no_batch_input', '_infer_parameters', '_init_flat_weights', '_initialize_hook',
    '_is_protocol', '_lazy_load_hook', '_load_hook', '_mha_block', '_output_padding',
    '_qkv_same_embed_dim', '_random_samples', '_require_tuple_int', '_reset_parameters',
    '_reversed_padding_repeated_twice', '_sa_block', '_update_flat_weights',
    '_weights_have_changed', 'activation', 'activation_relu_or_gelu', 'add_zero_attn', 'affine',
    'align_corners', 'all_weights', 'alpha', 'approximate', 'batch_first', 'beta', 'bias',
    'bias_hh', 'bias_ih', 'bias_k', 'bias_v', 'bidirectional', 'blank', 'ceil_mode',
    'check_forward_args', 'check_hidden_size', 'check_input', 'cls_to_become',
    'convert_sync_batchnorm', 'count_include_pad', 'cutoffs', 'd_model', 'decoder', 'delta',
    'dilation', 'dim', 'distance_function', 'div_value', 'divisor_override', 'downscale_factor',
    'dropout', 'dropout1', 'dropout2', 'dropout3', 'elementwise_affine', 'embed_dim',
    'embedding_dim', 'enable_nested_tensor', 'encoder', 'end_dim', 'eps', 'flatten_parameters',
    'from_pretrained', 'full', 'gather', 'generate_square_subsequent_mask',
    'get_expected_cell_size', 'get_expected_hidden_size', 'groups', 'has_uninitialized_params',
    'head', 'head_bias', 'head_dim', 'head_size', 'hidden_size', 'hook', 'ignore_index',
    'in1_features', 'in2_features', 'in_channels', 'in_features', 'in_proj_bias',
    'in_proj_weight', 'include_last_offset', 'init', 'initialize_parameters', 'inplace',
    'input_size', 'k', 'k_proj_weight', 'kdim', 'keepdim', 'kernel_size', 'label_smoothing',
    'lambd', 'layers', 'linear', 'linear1', 'linear2', 'log_input', 'log_prob', 'log_target',
    'lower', 'margin', 'mask_check', 'max_norm', 'max_val', 'merge_masks', 'min_val', 'mode',
    'module', 'momentum', 'multihead_attn', 'n_classes', 'n_clusters', 'name', 'negative_slope',
    'nhead', 'nonlinearity', 'norm', 'norm1', 'norm2', 'norm3', 'norm_first', 'norm_type',
    'normalized_shape', 'num_batches_tracked', 'num_channels', 'num_classes', 'num_embeddings',
    'num_features', 'num_groups', 'num_heads', 'num_layers', 'num_parameters', 'options',
    'out_channels', 'out_features', 'out_proj', 'output_padding', 'output_ratio', 'output_size',
    'p', 'padding', 'padding_idx', 'padding_mode', 'parallel_apply', 'permute_hidden',
    'pos_weight', 'predict', 'process_group', 'proj_size', 'q_proj_weight',
    'recompute_scale_factor', 'reduction', 'replicate', 'reset_parameters', 'reset_running_stats',
    'return_indices', 'running_mean', 'running_var', 'scale_factor', 'scale_grad_by_freq',
    'scatter', 'self_attn', 'shortlist_size', 'size', 'sparse', 'start_dim', 'stride', 'swap',
    'tail', 'threshold', 'track_running_stats', 'transposed', 'unflattened_size', 'upper',
    'upscale_factor', 'use_nested_tensor', 'v_proj_weight', 'value', 'vdim', 'weight',
    'weight_hh', 'weight_ih', 'with_module', 'zero_infinity',
})


def made_at_run_time(name: str) -> bool:
    """Names torch gives attributes as it runs: the weights of RNN layers (``weight_ih_l0``,
    ``bias_hh_l1_reverse``), and what weight_norm, spectral_norm, pruning and
    parametrizations add to a module that has a parameter (``weight_g``, ``weight_orig``,
    ``weight_mask``, ``parametrizations``, and the dunder methods of the class a
    parametrization makes)."""
    return RUN_TIME.match(name) is not None


RUN_TIME = re.compile(r"(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?$|.+_(orig|mask|g|v|u)$|"
                      r"parametrizations$|__\w+__$")
