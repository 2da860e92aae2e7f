package io.ckpt4j.pickle;

import static io.ckpt4j.CheckpointException.Kind.LIMIT_EXCEEDED;
import static io.ckpt4j.CheckpointException.Kind.MALFORMED_PICKLE;
import static io.ckpt4j.CheckpointException.Kind.UNSUPPORTED_FORMAT;
import static io.ckpt4j.CheckpointException.Kind.WRONG_LOADER;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyAppendable;
import io.ckpt4j.value.PyBuildable;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pickle machine for one pickle: a loop over opcodes with a value stack, MARK stack and memo,
 * after Python's {@code pickle._Unpickler}, except that nothing is imported or run: globals go
 * through the caller's {@link GlobalResolver}, calls to its {@link PyCallable}s, persistent ids
 * to its {@link PersistentLoader}. It never recurses, so no input can overflow the Java stack.
 */
final class Interpreter {
  private final PickleInput in;
  private final PickleStack stack;
  private final Memo memo;
  private final PickleOptions options;
  private final PickleLimits limits;
  private final CallerCode caller;
  private final Scalars scalars;
  private final PickleObserver observer;

  Interpreter(ByteBuffer source, PickleOptions options) {
    this.in = new PickleInput(source, options.where());
    this.options = options;
    this.limits = options.limits();
    this.stack = new PickleStack(in, limits);
    this.memo = new Memo(limits.maxMemoEntries());
    this.caller = new CallerCode(in, options);
    this.scalars = new Scalars(in, options);
    this.observer = options.observer();
  }

  /** Position after STOP, once {@link #run} has returned. */
  int position() {
    return in.position();
  }

  /** Runs to STOP and returns the one value left on the stack. */
  Object run() throws CheckpointException {
    try {
      return loop();
    } catch (RuntimeException e) {
      // A resolver's object misbehaved (an unmodifiable map, say) or ckpt4j has a bug.
      throw in.error(MALFORMED_PICKLE, "unexpected " + PythonTypes.printable(e.toString()), e);
    }
  }

  private Object loop() throws CheckpointException {
    while (true) {
      int op = in.nextOpcode();
      switch (op) {
        case Opcodes.STOP: return stop();
        case Opcodes.PROTO: proto(in.u8()); break;
        case Opcodes.FRAME: in.frame(in.u64()); break;

        case Opcodes.NONE: stack.push(null); break;
        case Opcodes.NEWTRUE: stack.push(Boolean.TRUE); break;
        case Opcodes.NEWFALSE: stack.push(Boolean.FALSE); break;
        case Opcodes.INT: stack.push(scalars.textInt()); break;
        case Opcodes.LONG: stack.push(scalars.textLong()); break;
        case Opcodes.BININT: stack.push((long) in.i32()); break;
        case Opcodes.BININT1: stack.push((long) in.u8()); break;
        case Opcodes.BININT2: stack.push((long) in.u16()); break;
        case Opcodes.LONG1: stack.push(scalars.binaryInt(in.u8())); break;
        case Opcodes.LONG4: stack.push(scalars.binaryInt(in.i32())); break;
        case Opcodes.FLOAT: stack.push(scalars.textFloat()); break;
        case Opcodes.BINFLOAT: stack.push(in.f64be()); break;

        case Opcodes.STRING: stack.push(scalars.quotedPy2String()); break;
        case Opcodes.BINSTRING: stack.push(scalars.py2String(in.i32())); break;
        case Opcodes.SHORT_BINSTRING: stack.push(scalars.py2String(in.u8())); break;
        case Opcodes.UNICODE: stack.push(scalars.rawUnicode()); break;
        case Opcodes.BINUNICODE: stack.push(scalars.unicode(in.u32())); break;
        case Opcodes.SHORT_BINUNICODE: stack.push(scalars.unicode(in.u8())); break;
        case Opcodes.BINUNICODE8: stack.push(scalars.unicode(in.u64())); break;
        case Opcodes.BINBYTES: stack.push(scalars.bytes(in.u32())); break;
        case Opcodes.SHORT_BINBYTES: stack.push(scalars.bytes(in.u8())); break;
        case Opcodes.BINBYTES8:
        case Opcodes.BYTEARRAY8: stack.push(scalars.bytes(in.u64())); break;

        case Opcodes.EMPTY_TUPLE: stack.push(PyTuple.EMPTY); break;
        case Opcodes.TUPLE1: tupleOfTop(1); break;
        case Opcodes.TUPLE2: tupleOfTop(2); break;
        case Opcodes.TUPLE3: tupleOfTop(3); break;
        case Opcodes.TUPLE: stack.push(tuple(stack.popMark())); break;
        case Opcodes.EMPTY_LIST: stack.push(new ArrayList<>()); break;
        case Opcodes.LIST: stack.push(new ArrayList<>(Arrays.asList(stack.popMark()))); break;
        case Opcodes.EMPTY_DICT: stack.push(new LinkedHashMap<>()); break;
        case Opcodes.DICT: dict(); break;
        case Opcodes.EMPTY_SET: stack.push(new LinkedHashSet<>()); break;
        case Opcodes.FROZENSET: frozenSet(); break;

        case Opcodes.APPEND: append(); break;
        case Opcodes.APPENDS: appends(); break;
        case Opcodes.SETITEM: setItem(); break;
        case Opcodes.SETITEMS: setItems(); break;
        case Opcodes.ADDITEMS: addItems(); break;

        case Opcodes.MARK: stack.mark(); break;
        case Opcodes.POP: popOp(); break;
        case Opcodes.POP_MARK: stack.discardMark(); break;
        case Opcodes.DUP: stack.need(1); stack.push(stack.peek(0)); break;

        case Opcodes.PUT: memoPut(textMemoKey()); break;
        case Opcodes.BINPUT: memoPut(in.u8()); break;
        case Opcodes.LONG_BINPUT: memoPut(in.u32()); break;
        case Opcodes.MEMOIZE: memoPut(memo.size()); break;
        case Opcodes.GET: memoGet(textMemoKey()); break;
        case Opcodes.BINGET: memoGet(in.u8()); break;
        case Opcodes.LONG_BINGET: memoGet(in.u32()); break;

        case Opcodes.GLOBAL: global(); break;
        case Opcodes.STACK_GLOBAL: stackGlobal(); break;
        case Opcodes.REDUCE: reduce(); break;
        case Opcodes.BUILD: build(); break;
        case Opcodes.NEWOBJ: newObj(); break;
        case Opcodes.NEWOBJ_EX: newObjEx(); break;
        case Opcodes.INST: inst(); break;
        case Opcodes.OBJ: obj(); break;
        case Opcodes.PERSID: persistent(scalars.persid()); break;
        case Opcodes.BINPERSID: persistent(stack.pop()); break;

        case Opcodes.EXT1: throw extension(in.u8());
        case Opcodes.EXT2: throw extension(in.u16());
        case Opcodes.EXT4: throw extension(in.i32());
        case Opcodes.NEXT_BUFFER:
        case Opcodes.READONLY_BUFFER:
          throw in.error(UNSUPPORTED_FORMAT,
              "out-of-band buffers (protocol 5 with a buffer_callback) are not"
              + " supported: pickle the data in-band");
        default:
          throw in.error(MALFORMED_PICKLE,
              String.format("unknown opcode 0x%02x: the data is not a pickle, or is"
              + " corrupt", op));
      }
    }
  }

  private Object stop() throws CheckpointException {
    if (stack.markDepth() != 0) {
      throw in.error(MALFORMED_PICKLE, "STOP with " + stack.markDepth() + " MARK(s) still open");
    }
    if (stack.size() != 1) {
      throw in.error(MALFORMED_PICKLE,
          "STOP with " + stack.size() + " values on the stack; a pickle ends with"
          + " exactly one");
    }
    return stack.bottom();
  }

  private void proto(int version) throws CheckpointException {
    if (version > Opcodes.HIGHEST_PROTOCOL) {
      throw in.error(UNSUPPORTED_FORMAT,
          "unsupported pickle protocol " + version + " (ckpt4j reads 0 to "
          + Opcodes.HIGHEST_PROTOCOL + ")");
    }
  }

  /** Python's load_pop: POP with nothing above the last MARK closes that MARK. */
  private void popOp() throws CheckpointException {
    if (stack.frameEmpty() && stack.markDepth() > 0) {
      stack.discardMark();
    } else {
      stack.pop();
    }
  }

  // ---- containers

  private PyTuple tuple(Object[] items) throws CheckpointException {
    PyTuple t = PyTuple.wrap(items);
    if (t.depth() > limits.maxNestingDepth()) {
      throw in.error(LIMIT_EXCEEDED, "tuples nest more than " + limits.maxNestingDepth()
          + " deep (PickleLimits.maxNestingDepth)");
    }
    return t;
  }

  private void tupleOfTop(int count) throws CheckpointException {
    stack.need(count);
    Object[] items = new Object[count];
    for (int i = 0; i < count; i++) {
      items[i] = stack.peek(count - 1 - i);
    }
    PyTuple t = tuple(items);
    stack.drop(count);
    stack.push(t);
  }

  private void dict() throws CheckpointException {
    Object[] items = stack.popMark();
    Map<Object, Object> map = new LinkedHashMap<>();
    putAll(map, items);
    stack.push(map);
  }

  private void frozenSet() throws CheckpointException {
    Object[] items = stack.popMark();
    Set<Object> set = new LinkedHashSet<>();
    for (Object item : items) {
      set.add(hashable(item, "set element"));
    }
    stack.push(set);
  }

  private Object hashable(Object key, String what) throws CheckpointException {
    if (!PyTuple.isHashable(key)) {
      throw in.error(MALFORMED_PICKLE, "unhashable " + PythonTypes.name(key) + " as a " + what
          + " (Python would raise TypeError)");
    }
    return key;
  }

  private void append() throws CheckpointException {
    stack.need(2);
    Object item = stack.pop();
    observeChange(stack.peek(0));
    appendTo(stack.peek(0), item);
  }

  /** Tells the observer of APPEND(S), SETITEM(S) or BUILD on an object (not a list or dict). */
  private void observeChange(Object target) {
    if (!(target instanceof List) && !(target instanceof Map)) {
      observer.call(Opcodes.name(in.op()), target, in.opStart());
    }
  }

  @SuppressWarnings("unchecked")
  private void appends() throws CheckpointException {
    Object[] items = stack.popMark();
    stack.need(1);
    Object target = stack.peek(0);
    observeChange(target);
    if (target instanceof ArrayList) {
      ((ArrayList<Object>) target).addAll(Arrays.asList(items));
      return;
    }
    for (Object item : items) {
      appendTo(target, item);
    }
  }

  @SuppressWarnings("unchecked")
  private void appendTo(Object target, Object item) throws CheckpointException {
    if (target instanceof List && !(target instanceof PyTuple)) {
      ((List<Object>) target).add(item);
    } else if (target instanceof PyObject) {
      ((PyObject) target).mutableListItems().add(item);
    } else if (target instanceof PyAppendable) {
      PyAppendable appendable = (PyAppendable) target;
      caller.call(caller.describe(target), () -> {
        appendable.append(item);
        return null;
      });
    } else {
      throw in.error(MALFORMED_PICKLE, "cannot append to a " + PythonTypes.name(target)
          + ": only lists and objects take items");
    }
  }

  private void setItem() throws CheckpointException {
    stack.need(3);
    Object value = stack.pop();
    Object key = stack.pop();
    observeChange(stack.peek(0));
    putItem(stack.peek(0), key, value);
  }

  private void setItems() throws CheckpointException {
    Object[] items = stack.popMark();
    stack.need(1);
    Object target = stack.peek(0);
    observeChange(target);
    if (target instanceof Map) {
      @SuppressWarnings("unchecked")
      Map<Object, Object> map = (Map<Object, Object>) target;
      putAll(map, items);
      return;
    }
    if (items.length % 2 != 0) {
      throw in.error(MALFORMED_PICKLE,
          "SETITEMS with an odd number (" + items.length + ") of keys and values");
    }
    for (int i = 0; i < items.length; i += 2) {
      putItem(target, items[i], items[i + 1]);
    }
  }

  private void putAll(Map<Object, Object> map, Object[] items) throws CheckpointException {
    if (items.length % 2 != 0) {
      throw in.error(MALFORMED_PICKLE, "an odd number (" + items.length + ") of keys and values");
    }
    for (int i = 0; i < items.length; i += 2) {
      map.put(hashable(items[i], "dict key"), items[i + 1]);
    }
  }

  @SuppressWarnings("unchecked")
  private void putItem(Object target, Object key, Object value) throws CheckpointException {
    if (target instanceof Map) {
      ((Map<Object, Object>) target).put(hashable(key, "dict key"), value);
    } else if (target instanceof PyObject) {
      ((PyObject) target).mutableDictItems().put(hashable(key, "dict key"), value);
    } else {
      throw in.error(MALFORMED_PICKLE, "cannot set an item on a " + PythonTypes.name(target)
          + ": only dicts and objects take items");
    }
  }

  @SuppressWarnings("unchecked")
  private void addItems() throws CheckpointException {
    Object[] items = stack.popMark();
    stack.need(1);
    Object target = stack.peek(0);
    if (!(target instanceof Set)) {
      throw in.error(MALFORMED_PICKLE,
          "cannot add items to a " + PythonTypes.name(target) + ": only sets take them");
    }
    for (Object item : items) {
      ((Set<Object>) target).add(hashable(item, "set element"));
    }
  }

  // ---- memo

  private long textMemoKey() throws CheckpointException {
    Object key =
        PickleText.parseInt(in.line(), in.lineLength(), limits.maxIntegerBytes(), false, in);
    return key instanceof Long ? (Long) key : -1;
  }

  private void memoPut(long key) throws CheckpointException {
    stack.need(1);
    if (!memo.fits(key)) {
      throw in.error(key < 0 ? MALFORMED_PICKLE : LIMIT_EXCEEDED,
          "memo key " + key + " is negative or past the limit of "
          + limits.maxMemoEntries() + " entries (PickleLimits.maxMemoEntries)");
    }
    memo.put((int) key, stack.peek(0));
  }

  private void memoGet(long key) throws CheckpointException {
    if (!memo.contains(key)) {
      throw in.error(MALFORMED_PICKLE, "memo key " + key + " was never stored");
    }
    stack.push(memo.get((int) key));
  }

  // ---- globals, calls, objects

  private void global() throws CheckpointException {
    String module = scalars.utf8Line("module");
    String name = scalars.utf8Line("global");
    stack.push(caller.resolve(module, name));
  }

  private void stackGlobal() throws CheckpointException {
    stack.need(2);
    Object name = stack.pop();
    Object module = stack.pop();
    if (!(module instanceof String) || !(name instanceof String)) {
      throw in.error(MALFORMED_PICKLE,
          "STACK_GLOBAL needs a str module and name, not " + PythonTypes.name(module)
          + " and " + PythonTypes.name(name));
    }
    stack.push(caller.resolve((String) module, (String) name));
  }

  private PyTuple argsTuple(Object args) throws CheckpointException {
    if (!(args instanceof PyTuple)) {
      throw in.error(MALFORMED_PICKLE,
          "the arguments must be a tuple, not " + PythonTypes.name(args));
    }
    return (PyTuple) args;
  }

  private void reduce() throws CheckpointException {
    stack.need(2);
    PyTuple args = argsTuple(stack.pop());
    Object f = stack.peek(0);
    observer.call(Opcodes.name(in.op()), f, in.opStart());
    PyCallable callable = caller.callable(f, "REDUCE");
    stack.set(0, caller.call(caller.describe(f), () -> callable.call(args)));
  }

  private void build() throws CheckpointException {
    stack.need(2);
    Object state = stack.pop();
    Object target = stack.peek(0);
    observeChange(target);
    if (target instanceof PyObject) {
      ((PyObject) target).setState(state);
    } else if (target instanceof PyBuildable) {
      PyBuildable buildable = (PyBuildable) target;
      caller.call(caller.describe(target), () -> {
        buildable.build(state);
        return null;
      });
    } else {
      throw in.error(MALFORMED_PICKLE, "cannot BUILD a " + PythonTypes.name(target)
          + ": only objects of allowed classes take state");
    }
  }

  private void newObj() throws CheckpointException {
    stack.need(2);
    PyTuple args = argsTuple(stack.pop());
    Object cls = stack.pop();
    stack.push(instantiate(cls, args, Map.of()));
  }

  private void newObjEx() throws CheckpointException {
    stack.need(3);
    Object kwargs = stack.pop();
    PyTuple args = argsTuple(stack.pop());
    Object cls = stack.pop();
    if (!(kwargs instanceof Map)) {
      throw in.error(MALFORMED_PICKLE,
          "NEWOBJ_EX keyword arguments must be a dict, not " + PythonTypes.name(kwargs));
    }
    Map<String, Object> named = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) kwargs).entrySet()) {
      if (!(e.getKey() instanceof String)) {
        throw in.error(MALFORMED_PICKLE,
            "keyword argument names must be str, not " + PythonTypes.name(e.getKey()));
      }
      named.put((String) e.getKey(), e.getValue());
    }
    stack.push(instantiate(cls, args, named));
  }

  private void inst() throws CheckpointException {
    String module = scalars.utf8Line("module");
    String name = scalars.utf8Line("class");
    Object cls = caller.resolve(module, name); // resolved first, as Python does
    PyTuple args = tuple(stack.popMark());
    stack.push(instantiate(cls, args, Map.of()));
  }

  private void obj() throws CheckpointException {
    Object[] items = stack.popMark();
    if (items.length == 0) {
      throw in.error(MALFORMED_PICKLE, "OBJ needs a class after its MARK");
    }
    PyTuple args = tuple(Arrays.copyOfRange(items, 1, items.length));
    stack.push(instantiate(items[0], args, Map.of()));
  }

  private Object instantiate(Object cls, PyTuple args, Map<String, Object> kwargs)
      throws CheckpointException {
    observer.call(Opcodes.name(in.op()), cls, in.opStart());
    PyCallable callable = caller.callable(cls, Opcodes.name(in.op()));
    return caller.call(caller.describe(cls), () -> callable.newObject(args, kwargs));
  }

  private void persistent(Object pid) throws CheckpointException {
    PersistentLoader loader = options.persistentLoader();
    if (loader == null) {
      throw in.error(WRONG_LOADER, "a persistent id (data stored outside the pickle, such as a"
          + " torch storage) with no PersistentLoader to resolve it; load the file through the"
          + " checkpoint reader");
    }
    stack.push(caller.call("the persistent loader", () -> loader.load(pid)));
  }

  private CheckpointException extension(long code) {
    return in.error(UNSUPPORTED_FORMAT,
        "extension code " + code + " (copyreg.add_extension) is not supported:"
        + " ckpt4j has no extension registry");
  }
}
