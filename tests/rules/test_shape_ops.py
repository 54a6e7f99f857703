"""view/reshape, permute, transpose, squeeze/unsqueeze, expand, repeat, movedim, narrow,
split/chunk/unbind, cat/stack against torch."""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from helpers import T, check, check_symbolic, cpu_message, fn, meta, outcome, symbolize
from shapelens.analysis.dims import sym

small = st.integers(1, 4)
shape_st = st.lists(small, max_size=4).map(tuple)


def _syms(shape, data):
    return symbolize(shape, [data.draw(st.booleans()) for _ in shape])


@given(shape_st, st.data())
def test_view_reshape_matches_torch(shape, data):
    numel = 1
    for d in shape:
        numel *= d
    n = data.draw(st.integers(0, 3))
    sizes = [data.draw(st.integers(1, 6)) for _ in range(n)]
    if data.draw(st.booleans()) and sizes:
        sizes[data.draw(st.integers(0, n - 1))] = -1
    if data.draw(st.integers(0, 6)) == 0 and sizes:
        sizes[0] = data.draw(st.sampled_from([-2, 0, -1]))
    if data.draw(st.booleans()):
        # a valid target: split numel into factors
        sizes = [numel] if data.draw(st.booleans()) else [-1]
        if numel % 2 == 0 and data.draw(st.booleans()):
            sizes = [2, numel // 2] if data.draw(st.booleans()) else [-1, 2]
    sizes = tuple(sizes)
    for name in ("Tensor.view", "Tensor.reshape"):
        method = name.split(".")[1]
        check(fn(name, T(*shape), sizes), outcome(lambda: getattr(meta(*shape), method)(sizes)),
              context=str((shape, sizes)))
        if sizes:
            check(fn(name, T(*shape), *sizes),
                  outcome(lambda: getattr(meta(*shape), method)(*sizes)))
    rule = fn("torch.reshape", T(*shape), sizes)
    check(rule, outcome(lambda: torch.reshape(meta(*shape), sizes)), context=str((shape, sizes)))
    sym_shape, bindings = _syms(shape, data)
    check_symbolic(fn("torch.reshape", T(*sym_shape), sizes), rule, bindings)


def test_view_symbolic_division_and_message():
    N = sym("N")
    assert fn("Tensor.view", T(N, 16, 5, 5), N, -1).shape == (N, 400)
    assert fn("Tensor.view", T(N, 16, 5, 5), -1, 400).shape == (N, 400)
    assert fn("Tensor.view", T(N, 3200), -1, 1152).shape == (None,)[:0] + (None, 1152)
    # N*3200 elements never fit N*1152 for a positive N
    assert fn("Tensor.view", T(N, 3200), N, 1152).code == "reshape-numel"
    text = cpu_message(lambda: torch.randn(4, 3200).view(4, 1152))
    err = fn("Tensor.view", T(4, 32, 10, 10), 4, 1152)
    assert err.code == "reshape-numel" and err.message.startswith(text)
    assert "view(4, -1)" in err.message


@given(shape_st, st.lists(st.integers(-5, 4), max_size=5).map(tuple), st.data())
def test_permute_matches_torch(shape, dims, data):
    if data.draw(st.booleans()):
        dims = tuple(data.draw(st.permutations(range(len(shape)))))
        dims = tuple(d - len(shape) if data.draw(st.booleans()) else d for d in dims)
    rule = fn("Tensor.permute", T(*shape), dims)
    check(rule, outcome(lambda: meta(*shape).permute(dims)), context=str((shape, dims)),
          cpu=lambda: torch.ones(shape).permute(dims))
    check(fn("torch.permute", T(*shape), dims), outcome(lambda: torch.permute(meta(*shape), dims)),
          cpu=lambda: torch.permute(torch.ones(shape), dims))
    sym_shape, bindings = _syms(shape, data)
    check_symbolic(fn("Tensor.permute", T(*sym_shape), dims), rule, bindings)


@given(shape_st, st.integers(-5, 4), st.integers(-5, 4))
def test_transpose_and_t_match_torch(shape, a, b):
    check(fn("Tensor.transpose", T(*shape), a, b), outcome(lambda: meta(*shape).transpose(a, b)))
    check(fn("torch.swapaxes", T(*shape), a, b), outcome(lambda: torch.swapaxes(meta(*shape), a,
                                                                                b)))
    check(fn("Tensor.t", T(*shape)), outcome(lambda: meta(*shape).t()))


@given(st.lists(st.integers(1, 3), max_size=4).map(tuple),
       st.one_of(st.none(), st.integers(-5, 4), st.lists(st.integers(-4, 3), max_size=3)
                 .map(tuple)), st.integers(-5, 5), st.data())
def test_squeeze_unsqueeze_match_torch(shape, dim, udim, data):
    args = () if dim is None else (dim,)
    rule = fn("Tensor.squeeze", T(*shape), *args)
    check(rule, outcome(lambda: meta(*shape).squeeze(*args)), context=str((shape, dim)),
          cpu=lambda: torch.ones(shape).squeeze(*args))
    check(fn("Tensor.unsqueeze", T(*shape), udim), outcome(lambda: meta(*shape).unsqueeze(udim)))
    sym_shape, bindings = _syms(shape, data)
    check_symbolic(fn("Tensor.squeeze", T(*sym_shape), *args), rule, bindings)


@given(st.lists(st.integers(1, 3), max_size=3).map(tuple),
       st.lists(st.integers(-2, 4), max_size=4).map(tuple), st.data())
def test_expand_matches_torch(shape, sizes, data):
    if data.draw(st.booleans()):
        sizes = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))) \
            + tuple(d if d != 1 or data.draw(st.booleans()) else data.draw(st.integers(1, 4))
                    for d in shape)
    if not sizes or (0 in sizes and min(sizes) < 0):
        return  # torch gives nonsense (negative sizes) for empty expansions with -1/-2
    rule = fn("Tensor.expand", T(*shape), *sizes)
    check(rule, outcome(lambda: meta(*shape).expand(*sizes)), context=str((shape, sizes)),
          cpu=lambda: torch.ones(shape).expand(*sizes))
    sym_shape, bindings = _syms(shape, data)
    check_symbolic(fn("Tensor.expand", T(*sym_shape), *sizes), rule, bindings)


@given(shape_st, st.lists(st.integers(-1, 3), min_size=0, max_size=5).map(tuple), st.data())
def test_repeat_tile_match_torch(shape, reps, data):
    if reps:
        check(fn("Tensor.repeat", T(*shape), *reps), outcome(lambda: meta(*shape).repeat(*reps)),
              context=str((shape, reps)), cpu=lambda: torch.ones(shape).repeat(*reps))
    reps = tuple(abs(r) for r in reps)
    rule = fn("torch.tile", T(*shape), reps)
    check(rule, outcome(lambda: torch.tile(meta(*shape), reps)), context=str((shape, reps)))
    sym_shape, bindings = _syms(shape, data)
    check_symbolic(fn("torch.tile", T(*sym_shape), reps), rule, bindings)


@given(shape_st, st.lists(st.integers(-4, 3), max_size=3), st.lists(st.integers(-4, 3),
                                                                     max_size=3))
def test_movedim_matches_torch(shape, src, dst):
    src, dst = tuple(src), tuple(dst)
    check(fn("torch.movedim", T(*shape), src, dst),
          outcome(lambda: torch.movedim(meta(*shape), src, dst)), context=str((shape, src, dst)),
          cpu=lambda: torch.movedim(torch.ones(shape), src, dst))


@given(st.lists(small, min_size=1, max_size=3).map(tuple), st.integers(-3, 2),
       st.integers(-5, 5), st.integers(-1, 5))
def test_narrow_matches_torch(shape, dim, start, length):
    check(fn("Tensor.narrow", T(*shape), dim, start, length),
          outcome(lambda: meta(*shape).narrow(dim, start, length)),
          context=str((shape, dim, start, length)),
          cpu=lambda: torch.ones(shape).narrow(dim, start, length))


@given(st.lists(st.integers(1, 7), min_size=0, max_size=3).map(tuple), st.integers(-3, 2),
       st.data())
def test_split_chunk_unbind_match_torch(shape, dim, data):
    size = st.integers(-1, 8)
    split = data.draw(st.one_of(size, st.lists(st.integers(0, 5), max_size=3).map(list)))
    check(fn("torch.split", T(*shape), split, dim),
          outcome(lambda: torch.split(meta(*shape), split, dim)), partial=True,
          context=str((shape, split, dim)), cpu=lambda: torch.split(torch.ones(shape), split,
                                                                      dim))
    chunks = data.draw(st.integers(0, 8))
    check(fn("Tensor.chunk", T(*shape), chunks, dim),
          outcome(lambda: meta(*shape).chunk(chunks, dim)), partial=True,
          context=str((shape, chunks, dim)), cpu=lambda: torch.ones(shape).chunk(chunks, dim))
    check(fn("Tensor.unbind", T(*shape), dim), outcome(lambda: meta(*shape).unbind(dim)),
          partial=True, cpu=lambda: torch.ones(shape).unbind(dim))
    if 1 <= chunks:
        check(fn("Tensor.tensor_split", T(*shape), chunks, dim),
              outcome(lambda: meta(*shape).tensor_split(chunks, dim)), partial=True,
              cpu=lambda: torch.ones(shape).tensor_split(chunks, dim))


@given(st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple), st.integers(-3, 2),
       st.lists(st.integers(-9, 9), max_size=4), st.sampled_from(["positional", "indices"]))
def test_tensor_split_by_indices_matches_torch(shape, dim, indices, spelled):
    # torchvision's MViT: torch.tensor_split(x, indices=(1,), dim=2)
    call = (fn("torch.tensor_split", T(*shape), indices, dim) if spelled == "positional" else
            fn("torch.tensor_split", T(*shape), indices=indices, dim=dim))
    check(call, outcome(lambda: torch.tensor_split(meta(*shape), indices, dim)),
          context=str((shape, indices, dim)),
          cpu=lambda: torch.tensor_split(torch.ones(shape), indices, dim))


def test_split_results_are_tuples():
    out = fn("Tensor.chunk", T(2, 12), 3, -1)
    assert [t.shape for t in out.items] == [(2, 4)] * 3
    E = sym("E")
    out = fn("Tensor.chunk", T(2, E * 3), 3, -1)
    assert [t.shape for t in out.items] == [(2, E)] * 3
    assert type(fn("Tensor.chunk", T(2, E), 3, -1)).__name__ == "Unknown"


@given(st.integers(1, 3), st.integers(-4, 3), st.data())
def test_cat_stack_match_torch(count, dim, data):
    base = tuple(data.draw(st.lists(small, min_size=0, max_size=3)))
    shapes = []
    for _ in range(count):
        s = list(base)
        if s and data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(s) - 1))
            s[i] = data.draw(small)
        if data.draw(st.integers(0, 9)) == 0:
            s = s[:-1]
        if data.draw(st.integers(0, 14)) == 0:
            s = [0]
        shapes.append(tuple(s))
    tensors = [T(*s) for s in shapes]
    rule = fn("torch.cat", tensors, dim)
    check(rule, outcome(lambda: torch.cat([meta(*s) for s in shapes], dim)),
          context=str((shapes, dim)), cpu=lambda: torch.cat([torch.ones(s) for s in shapes], dim))
    check(fn("torch.stack", tensors, dim),
          outcome(lambda: torch.stack([meta(*s) for s in shapes], dim)),
          context=str((shapes, dim)), cpu=lambda: torch.stack([torch.ones(s) for s in shapes],
                                                              dim))
    for name in ("hstack", "vstack", "dstack", "column_stack"):
        check(fn("torch." + name, tensors),
              outcome(lambda: getattr(torch, name)([meta(*s) for s in shapes])),
              context=str((name, shapes)),
              cpu=lambda: getattr(torch, name)([torch.ones(s) for s in shapes]))
    masks = [[data.draw(st.booleans()) for _ in s] for s in shapes]
    bindings, sym_tensors = {}, []
    for k, (s, m) in enumerate(zip(shapes, masks)):
        ss, b = symbolize(s, m, prefix="T%d_" % k)
        bindings.update(b)
        sym_tensors.append(T(*ss))
    check_symbolic(fn("torch.cat", sym_tensors, dim), rule, bindings)


def test_cat_message_starts_with_torch_text():
    text = cpu_message(lambda: torch.cat([torch.randn(2, 22, 3), torch.randn(2, 45, 3)], 2))
    err = fn("torch.cat", [T(2, 22, 3), T(2, 45, 3)], 2)
    assert err.code == "shape-mismatch" and err.message.startswith(text)
    text = cpu_message(lambda: torch.stack([torch.randn(2, 3), torch.randn(2, 4)]))
    assert fn("torch.stack", [T(2, 3), T(2, 4)]).message.startswith(text)
    text = cpu_message(lambda: torch.randn(4, 800).permute(1, 0, 2))
    assert fn("Tensor.permute", T(4, 800), 1, 0, 2).message.startswith(text)
