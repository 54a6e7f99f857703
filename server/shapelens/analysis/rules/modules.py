"""What the methods of ``nn.Module`` (and of torch layers and containers) do to the module, as
data.  The interpreter follows each kind one way (interp/methods.py); a method that is in none of
these tables is an operation the analysis does not model, and the module it is called on is
forgotten (its shapes become unknown) rather than assumed unchanged.
"""
from __future__ import annotations

# Return the module itself and change nothing a shape depends on.
RETURNS_SELF = frozenset({
    "to", "cuda", "cpu", "xpu", "mps", "float", "double", "half", "bfloat16", "type",
    "requires_grad_", "share_memory", "to_empty", "train", "eval", "compile",
})

# Read the module (or change only values, never shapes); the analysis has no value for what
# they return.
READ_ONLY = frozenset({
    "parameters", "named_parameters", "buffers", "named_buffers", "state_dict",
    "load_state_dict", "zero_grad", "extra_repr", "get_parameter", "get_buffer",
    "get_extra_state", "set_extra_state", "reset_parameters", "reset_running_stats",
    "flatten_parameters", "__repr__", "__str__", "__dir__", "_get_name", "numel",
    "register_full_backward_hook", "register_full_backward_pre_hook", "register_backward_hook",
    "register_state_dict_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "_register_state_dict_hook",
    "_register_load_state_dict_pre_hook", "ipu", "mtia",
    # pytorch-lightning's LightningModule
    "save_hyperparameters", "log", "log_dict", "print", "freeze", "unfreeze",
    "configure_optimizers", "to_onnx", "to_torchscript",
})

# Hooks that may replace what ``forward`` returns: the module's output is no longer known.
FORWARD_HOOKS = frozenset({"register_forward_hook", "register_forward_pre_hook"})

# Methods answered from the module tree the analysis knows (interp/methods.py).
TREE_METHODS = frozenset({"children", "named_children", "modules", "named_modules",
                          "get_submodule", "apply", "add_module", "register_module",
                          "register_buffer", "register_parameter", "forward", "__call__",
                          "__setattr__", "__getattr__", "__delattr__"})

# Every name the analysis knows as an nn.Module method.
MODULE_METHODS = RETURNS_SELF | READ_ONLY | FORWARD_HOOKS | TREE_METHODS

# torch layers made of child modules (``MultiheadAttention.out_proj``...), which the analysis
# does not list one by one.
LAYERS_WITH_CHILDREN = frozenset({
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerDecoder", "Transformer",
})

# torch functions that take a module and return it, or a wrapper with the same calls.
MODULE_WRAPPERS = frozenset({
    "torch.nn.utils.spectral_norm", "torch.nn.utils.weight_norm",
    "torch.nn.utils.parametrizations.spectral_norm",
    "torch.nn.utils.parametrizations.weight_norm", "torch.nn.utils.parametrizations.orthogonal",
    "torch.compile", "torch.jit.script", "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
})

# torch functions that read what they are given and change no shape of it.
READS_ARGUMENTS = frozenset({
    "torch.save", "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_",
    "torch.nn.utils.parameters_to_vector", "torch.manual_seed", "torch.set_grad_enabled",
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.is_tensor",
    "torch.numel", "torch.typename",
})

# Classes of torch.nn, by family, for ``isinstance(m, nn.modules.conv._ConvNd)`` and friends.
LAYER_FAMILIES = {
    "Module": None,      # every module
    "_ConvNd": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
                "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d"),
    "_ConvTransposeNd": ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
    "_BatchNorm": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"),
    "_NormBase": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
                  "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),
    "_InstanceNorm": ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),
    "RNNBase": ("RNN", "LSTM", "GRU"),
    "_MaxPoolNd": ("MaxPool1d", "MaxPool2d", "MaxPool3d"),
    "_AvgPoolNd": ("AvgPool1d", "AvgPool2d", "AvgPool3d"),
    "_DropoutNd": ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                   "FeatureAlphaDropout"),
}
