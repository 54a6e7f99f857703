"""torch containers (``nn.Sequential``, ``nn.ModuleList``, ``nn.ModuleDict``) as torch keeps
them: children in order under string names (``"0"``, ``"1"``… unless named), reached by
position (Sequential, ModuleList) or by key (ModuleDict), by attribute, and changed by
``append``/``extend``/``insert``/``add_module``/``register_module``/``__setitem__``/``del``/
``update``/``pop``.

A container's ``items`` is a list while its children carry the default names, and a dict (name
-> module, in order) once one is named otherwise.  Every change goes through
``Soundness.mutating`` first; a change the analysis cannot pin down (an index or name it does
not know) forgets the contents (``havoc``) rather than guess.
"""
from __future__ import annotations

from ..rules.call import UNKNOWN, as_int, as_python
from ..values import Container, Instance, Layer, SliceVal, Unknown, Value

MODULE_KINDS = (Layer, Container, Instance)


def children(c: Container) -> list:
    """The child modules in order (a lost container has none the analysis knows)."""
    return list(c.items.values()) if isinstance(c.items, dict) else list(c.items)


def named(c: Container) -> dict:
    """name -> child, as torch's ``_modules``."""
    if isinstance(c.items, dict):
        return dict(c.items)
    return {str(i): m for i, m in enumerate(c.items)}


def positional(c: Container) -> bool:
    return c.kind != "ModuleDict"


def slice_bounds(key: SliceVal):
    bounds = (as_python(key.start), as_python(key.stop), as_python(key.step))
    if UNKNOWN in bounds or not all(v is None or type(v) is int for v in bounds):
        return None
    return slice(*bounds)


class Containers:
    """Reading and changing torch containers."""

    def container_item(self, c: Container, key) -> Value:
        """``c[key]``."""
        if c.lost:
            return Unknown(c.lost)
        if not positional(c):
            k = as_python(key)
            if k is UNKNOWN:
                return Unknown("key not known")
            return c.items.get(k, Unknown("no module %r" % (k,))) if isinstance(c.items, dict) \
                else Unknown("no module %r" % (k,))
        kids = children(c)
        if type(key) is SliceVal:
            s = slice_bounds(key)
            if s is None:
                return Unknown("slice with unknown bounds")
            names = list(named(c).items())[s]
            items = dict(names) if isinstance(c.items, dict) else [m for _, m in names]
            return Container(c.kind, items, c.loc)
        i = as_int(key)
        if type(i) is int and -len(kids) <= i < len(kids):
            if c.kind == "ModuleList":
                # ModuleList looks the index up as a name: "2" (KeyError once renamed).
                return named(c).get(str(i % len(kids)), Unknown("no module named %d" % i))
            return kids[i]
        return Unknown("index not known")

    def container_attribute(self, c: Container, attr: str):
        """``c.name`` for a child called ``name``; None when it is not a child's name."""
        if c.lost:
            return None
        return named(c).get(attr)

    def container_add(self, c: Container, name, module: Value):
        """``add_module(name, module)`` / ``setattr(c, name, module)``: a new name goes last, a
        known one is replaced in place."""
        self.mutating(c)
        if c.lost:
            return
        if type(name) is not str:
            self.havoc(c, "a module added under a name the analysis cannot see")
            return
        if isinstance(c.items, list):
            if name.isdigit() and int(name) < len(c.items) and str(int(name)) == name:
                c.items[int(name)] = module
                self.name_child(c, name, module)
                return
            if name == str(len(c.items)):
                c.items.append(module)
                self.name_child(c, name, module)
                return
            c.items = named(c)
        c.items[name] = module
        self.name_child(c, name, module)

    def container_append(self, c: Container, modules):
        """``append`` / ``extend``: children named by their position."""
        self.mutating(c)
        if c.lost:
            return
        if modules is None:
            self.havoc(c, "extended with modules the analysis cannot see")
            return
        for m in modules:
            self.container_add(c, str(len(c.items)), m)

    def container_set(self, c: Container, key, module: Value):
        """``c[key] = module``."""
        if c.lost:
            return
        if not positional(c):
            k = as_python(key)
            if k is UNKNOWN:
                self.havoc(c, "a module stored under a key the analysis cannot see")
            else:
                self.container_add(c, str(k), module)
            return
        i = as_int(key)
        n = len(c.items)
        if type(i) is int and -n <= i < n:
            # ModuleList stores under the index as a name ("3", a new child when one was
            # renamed by add_module); Sequential under the name at that position
            self.container_add(c, str(i % n) if c.kind == "ModuleList" else list(named(c))[i],
                               module)
        else:
            self.havoc(c, "a module stored at an index the analysis cannot see")

    def container_insert(self, c: Container, index, module: Value):
        """``insert(index, module)`` as torch does it: the children named index..n-1 move up one
        name ("1" -> "2"...), then the module is named ``index`` (Sequential first checks the
        index and counts a negative one from the end; ModuleList does neither, and raises
        where a name it moves is missing)."""
        i = as_int(index)
        self.mutating(c)
        if c.lost:
            return
        if type(i) is not int:
            self.havoc(c, "a module inserted at an index the analysis cannot see")
            return
        names = named(c)
        if c.kind == "Sequential":
            if not -len(names) <= i <= len(names):
                self.havoc(c, "Sequential.insert out of range: torch raises")
                return
            i = i + len(names) if i < 0 else i
        try:
            for j in range(len(names), i, -1):
                names[str(j)] = names[str(j - 1)]
        except KeyError:
            self.havoc(c, "insert into a container with renamed children: torch raises")
            return
        names[str(i)] = module
        default = list(names) == [str(k) for k in range(len(names))]
        c.items = list(names.values()) if default else names
        self.name_child(c, str(i), module)

    def container_delete(self, c: Container, key):
        """``del c[key]``: Sequential deletes the children at those positions, ModuleList the
        children NAMED by those positions ("0", "1"...: a child renamed by ``add_module`` is
        not found there, and torch raises after deleting the ones before it); both renumber
        the rest."""
        self.mutating(c)
        if c.lost:
            return
        if not positional(c):
            k = as_python(key)
            if k is UNKNOWN or not isinstance(c.items, dict):
                self.havoc(c, "a module deleted by a key the analysis cannot see")
            else:
                c.items.pop(k, None)
            return
        names = list(named(c))
        positions = range(len(names))
        if type(key) is SliceVal:
            s = slice_bounds(key)
            drop = list(positions[s]) if s is not None else None
        else:
            i = as_int(key)
            drop = [positions[i]] if type(i) is int and -len(names) <= i < len(names) else None
        if drop is None:
            self.havoc(c, "a module deleted at an index the analysis cannot see")
            return
        drop = [str(i) for i in drop] if c.kind == "ModuleList" else [names[i] for i in drop]
        if not set(drop) <= set(names):
            self.havoc(c, "a ModuleList with renamed children: torch raises midway")
            return
        c.items = [m for k, m in named(c).items() if k not in drop]

    def container_pop(self, c: Container, key):
        value = self.container_item(c, key)
        self.container_delete(c, key)
        return value

    def name_child(self, c: Container, name, module):
        """A child added after the container was stored on a module gets its name now (the
        others get theirs when the container is stored, see ``name_module``)."""
        if type(module) in MODULE_KINDS and c.name is not None:
            self.name_module(module, name, c)
