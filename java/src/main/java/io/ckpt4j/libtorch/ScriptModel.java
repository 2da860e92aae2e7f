package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.fs.AtomicFile;
import io.ckpt4j.nn.TorchModel;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.Devices;
import io.ckpt4j.value.PyTuple;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Argument;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Method;
import org.bytedeco.pytorch.MethodOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A TorchScript model loaded by {@link TorchScript#load}: compiled code and its tensors, which
 * runs in LibTorch. It owns the native module; {@link #close} frees it (a second close does
 * nothing).
 *
 * <pre>{@code
 * try (ScriptModel model = TorchScript.load(Path.of("model.pt"), "cpu")) {
 *   Tensor logits = model.forwardTensor(images);                  // model(images)
 *   Object out = model.forward(List.of(batchDict, 0.5));          // any inputs and outputs
 *   Map<String, Tensor> sd = model.stateDict();                   // model.state_dict()
 * }
 * }</pre>
 *
 * <p>Arguments and results use the reader's value model, converted by the types the method
 * declares: {@link Tensor} for {@code Tensor}; {@code Long} (Integer too) for {@code int};
 * {@code Double} for {@code float}; {@code Boolean}; {@code String}; {@code null} for
 * {@code None} and an empty {@code Optional}; {@link PyTuple} (any List, as an argument) for a
 * tuple; {@code List} for {@code List[T]}; {@code Map} for {@code Dict[K, V]}, in iteration
 * order; {@link ScriptObject} for an instance of a TorchScript class (results only). Tensors in
 * results are new references the caller owns and closes. Errors in the model's code come back as
 * a {@link CheckpointException} with TorchScript's one-line reason.
 *
 * <p>Not thread-safe: use one instance per thread, or synchronize.
 */
public final class ScriptModel extends OwnedResource implements TorchModel {
  private static final String FORWARD = "forward";

  private final JitModule module;
  private final Path source;
  private final ScriptArguments arguments = own(new ScriptArguments());
  private String device;
  /** The parameter view's modules, root first (see {@link JitModules#parameterView}). */
  private final List<Module> viewModules = new ArrayList<>();

  ScriptModel(JitModule module, Path source, String device) {
    this.module = module;
    this.source = source;
    this.device = device;
  }

  /** The file this model was loaded from. */
  public Path source() {
    return source;
  }

  /** The device its tensors were loaded onto or last moved to ("cpu", "cuda:N"). */
  public String device() {
    return device;
  }

  /** The names of the root module's methods ({@code forward}, and any {@code @torch.jit.export}). */
  @SuppressWarnings("try") // the scope frees what LibTorch calls allocate
  public List<String> methodNames() {
    ensureOpen();
    try (PointerScope scope = new PointerScope()) {
      return JitModules.methodNames(module);
    }
  }

  /**
   * {@code model(*args)}: runs {@code forward} and returns what it returns, converted. To pass
   * {@code None}, build the list with {@code Arrays.asList} ({@code List.of} refuses null).
   */
  public Object forward(List<?> args) throws CheckpointException {
    return runMethod(FORWARD, args);
  }

  /** {@code model(*args)} for a forward that returns one tensor. */
  public Tensor forwardTensor(Tensor... args) throws CheckpointException {
    Object out = runMethod(FORWARD, List.of((Object[]) args));
    if (out instanceof Tensor t) return t;
    closeTensors(out);
    throw new CheckpointException(Kind.INVALID_VALUE, where(FORWARD) + " returned " + kind(out)
        + ", not a tensor: call forward(List) to get any value");
  }

  /** {@code model(*args)} for a forward that returns a tuple (or list) of tensors. */
  public List<Tensor> forwardTensors(Tensor... args) throws CheckpointException {
    Object out = runMethod(FORWARD, List.of((Object[]) args));
    if (out instanceof List<?> items && items.stream().allMatch(Tensor.class::isInstance)) {
      List<Tensor> tensors = new ArrayList<>(items.size());
      for (Object item : items) tensors.add((Tensor) item);
      return tensors;
    }
    closeTensors(out);
    throw new CheckpointException(Kind.INVALID_VALUE, where(FORWARD) + " returned " + kind(out)
        + ", not a tuple of tensors: call forward(List) to get any value");
  }

  /**
   * The TorchModel forward: one tensor in, one tensor out. Failures come as an
   * {@link UncheckedIOException} wrapping the {@link CheckpointException}, because
   * {@link TorchModel#forward} declares none; call {@link #forwardTensor} to get it checked.
   */
  @Override
  public Tensor forward(Tensor input) {
    try {
      return forwardTensor(input);
    } catch (CheckpointException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code model.NAME(*args)}: runs any method of the root module. */
  @SuppressWarnings("try") // the scope frees what LibTorch calls allocate
  public Object runMethod(String name, List<?> args) throws CheckpointException {
    ensureOpen();
    String where = where(name);
    try (PointerScope scope = new PointerScope()) {
      Method method = method(name);
      Argument declared = method.function().getSchema().arguments();
      long parameters = method.num_inputs() - 1; // argument 0 is self
      if (args.size() > parameters) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            where + " takes " + parameters + " argument(s) ("
            + parameterNames(declared, parameters) + ") but was given " + args.size());
      }
      IValueVector stack = new IValueVector();
      for (int i = 0; i < args.size(); i++) {
        Argument a = declared.getPointer(i + 1);
        String parameter = a.name().getString(StandardCharsets.UTF_8);
        stack.push_back(arguments.toIValue(args.get(i), a.type().get(),
            "argument " + parameter + " of " + where));
      }
      IValue result = method.apply(stack);
      return ScriptResults.toJava(result, "the result of " + where);
    } catch (RuntimeException e) {
      throw LibTorchErrors.wrap(where + " failed", e);
    }
  }

  /**
   * {@code model.state_dict()}: every parameter and buffer by its dotted name, in Python's order
   * (each module's parameters, then its buffers, then its submodules). Detached tensors that
   * share the model's storage, as in Python; the caller owns these references.
   */
  @SuppressWarnings("try") // the scope frees what LibTorch calls allocate
  public Map<String, Tensor> stateDict() {
    ensureOpen();
    try (PointerScope scope = new PointerScope()) {
      return new LinkedHashMap<>(JitModules.stateDict(module));
    }
  }

  /**
   * {@link #stateDict} as a {@link StateDict}, which {@code TorchSaver.save(out, sd.toPython())}
   * writes as a plain weights-only file ({@code torch.save(model.state_dict())}). Its tensors
   * share the model's memory and outlive its close; the caller closes the state_dict.
   */
  public StateDict toStateDict() {
    Map<String, Tensor> tensors = stateDict();
    StateDict out = StateDict.empty();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      try (Tensor t = e.getValue()) {
        out.put(e.getKey(), t);
      }
    }
    return out;
  }

  /** {@code model.to(device)}: moves every parameter and buffer ("cpu", "cuda", "cuda:N"). */
  public ScriptModel to(String target) throws CheckpointException {
    ensureOpen();
    String canonical = Devices.check(target, "moving " + source, "use device \"cpu\"");
    try (Device d = new Device(canonical)) {
      module.to(d);
    } catch (RuntimeException e) {
      throw LibTorchErrors.wrap("moving " + source + " to " + canonical + " failed", e);
    }
    device = canonical;
    return this;
  }

  /** {@code model.eval()}: inference mode for dropout and batch norm, in every submodule. */
  public ScriptModel eval() {
    return train(false);
  }

  /** {@code model.train()}. */
  public ScriptModel train() {
    return train(true);
  }

  /** {@code model.train(mode)}: sets {@code training} on the module and every submodule. */
  public ScriptModel train(boolean mode) {
    ensureOpen();
    module.train(mode);
    return this;
  }

  /** {@code model.training}. */
  public boolean isTraining() {
    ensureOpen();
    return module.is_training();
  }

  /**
   * {@code model.save(path)} ({@code torch.jit.save}): writes the code and the current tensors
   * (on their current devices), atomically; Python's {@code torch.jit.load} reads it.
   */
  public void save(Path file) throws CheckpointException {
    ensureOpen();
    AtomicFile.write(file, true, temp -> {
      try {
        module.save(temp.toString());
      } catch (RuntimeException e) {
        throw LibTorchErrors.wrap("saving TorchScript model " + source + " to " + file, e);
      }
    });
  }

  /**
   * The model's parameters and buffers as an {@code nn::Module} tree with the TorchScript names:
   * the same tensors, not copies, so loading a state dict into it in place (copy_) changes what
   * {@link #forward} computes. A TorchScript module is no {@code nn::Module}: this view has no
   * forward, and its own {@code to()}, {@code train()} and clone do not reach the code; use this
   * class's. It belongs to this model and is freed by {@link #close}.
   */
  @SuppressWarnings("try") // the scope frees what LibTorch calls allocate
  @Override
  public Module module() {
    ensureOpen();
    if (viewModules.isEmpty()) {
      try (PointerScope scope = new PointerScope()) {
        JitModules.parameterView(module, viewModules);
      }
    }
    return viewModules.get(0);
  }

  /** The LibTorch module itself, for what this class does not wrap; owned by this model. */
  public JitModule jitModule() {
    ensureOpen();
    return module;
  }

  @Override
  protected void releaseResources() {
    arguments.close();
    for (int i = viewModules.size() - 1; i >= 0; i--) viewModules.get(i).close();
    viewModules.clear();
    module.close();
  }

  /** The root module's method {@code name}; called inside a PointerScope, which frees it. */
  private Method method(String name) throws CheckpointException {
    MethodOptional found = module.find_method(name);
    if (!found.has_value()) {
      throw new CheckpointException(Kind.NOT_FOUND,
          source + " has no method " + name + "; its methods are "
          + JitModules.methodNames(module));
    }
    return module.get_method(name);
  }

  private static String parameterNames(Argument declared, long count) {
    List<String> names = new ArrayList<>();
    for (long i = 1; i <= count; i++) {
      names.add(declared.getPointer(i).name().getString(StandardCharsets.UTF_8));
    }
    return String.join(", ", names);
  }

  private String where(String method) {
    return "method " + method + " of TorchScript model " + source;
  }

  @Override
  protected String resourceName() {
    return "ScriptModel of " + source;
  }

  private static String kind(Object value) {
    return value == null ? "None" : "a " + value.getClass().getSimpleName();
  }

  /** Frees the tensors of a result the caller will not get. */
  private static void closeTensors(Object value) {
    if (value instanceof Tensor t) {
      t.close();
    } else if (value instanceof List<?> items) {
      items.forEach(ScriptModel::closeTensors);
    } else if (value instanceof Map<?, ?> map) {
      map.keySet().forEach(ScriptModel::closeTensors);
      map.values().forEach(ScriptModel::closeTensors);
    } else if (value instanceof ScriptObject object) {
      object.attributes().values().forEach(ScriptModel::closeTensors);
    }
  }
}
