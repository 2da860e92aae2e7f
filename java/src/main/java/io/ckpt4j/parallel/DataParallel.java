package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.libtorch.ScriptModel;
import io.ckpt4j.nativeio.NativeLibrary;
import io.ckpt4j.nativeio.NativeParallel;
import io.ckpt4j.nn.TorchModel;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.Tensor;

/**
 * Python's {@code nn.DataParallel}: a module that holds the wrapped model as its child
 * {@code module}, so its state_dict keys start with {@code module.} exactly as Python's do, and
 * whose forward splits the batch over devices, runs one replica per device in parallel and
 * gathers the outputs.
 *
 * <pre>{@code
 * MyNet net = new MyNet();                                  // a TorchModel, on cuda:0
 * try (DataParallel<MyNet> dp = DataParallel.of(net, MyNet::new)) {
 *   StateDict.of(dp);                                       // keys "module.conv.weight", ...
 *   dp.module();                                            // net (the tutorial's model.module)
 *   Tensor y = dp.forward(x);                               // on every visible GPU
 * }
 * }</pre>
 *
 * <p><b>Forward</b>: the input is scattered along {@code dim} with {@code torch.chunk} semantics
 * (chunks of {@code ceil(n / k)}; fewer replicas run when the batch has fewer rows than there are
 * devices), parameters and buffers are broadcast from the wrapped model (which must be on the first
 * device, as in Python) at every forward, so the replicas always compute with its current weights,
 * the replicas run at once, and the outputs are concatenated on the output device. Scatter,
 * broadcast and gather are native ({@link ParallelOps}). Each model kind takes its own path:
 *
 * <ul>
 *   <li>A {@link TorchModel} (a LibTorch module tree with a Java forward): its forward is Java, so
 *       replicas run on Java threads (LibTorch holds no global lock: the operators run in
 *       parallel). Java code cannot be copied, so replica {@code r > 0} is a model the
 *       {@code factory} builds once (the same architecture: checked), whose tensors are pointed at
 *       native copies of the wrapped model's at every forward. Replica 0 is the wrapped model.
 *   <li>A TorchScript module ({@link ScriptModel} or {@link JitModule}; use {@code ofScript}):
 *       its forward is C++, so replicate and parallel apply run entirely in native code, the
 *       forwards on std::threads with no Java frame between; replicas are structural copies of
 *       the module made at every forward, like Python's. (A {@link ScriptModel} is also a
 *       {@link TorchModel}, but {@code of} would run it on Java threads through a factory.)
 * </ul>
 *
 * <p><b>Training</b>: gradients flow back. With grad mode on, every replica parameter is an
 * autograd-tracked copy of the wrapped model's, so {@code loss.backward()} on the gathered output
 * sums each replica's gradient into the wrapped model's parameters (Python's {@code Broadcast} /
 * {@code ReduceAddCoalesced}), and the input's gradient is gathered back through the scatter.
 * Buffers are copies without history: in training mode a replica's BatchNorm statistics are its
 * own and only replica 0's updates reach the wrapped model, as in Python. Run each backward before
 * the next forward (the next forward repoints a {@link TorchModel}'s replicas at new copies).
 *
 * <p>The wrapped model is not owned: {@link #close()} releases the replicas and this wrapper, not
 * the model, once (a second close is harmless; a forward after close throws
 * {@link IllegalStateException}, as every {@link OwnedResource} does — this class is a LibTorch
 * {@link Module} and so holds its ownership in a member instead of extending it). One forward
 * runs at a time. Outputs must be tensors.
 *
 * @param <M> the wrapped model's type: a {@link TorchModel}, a {@link ScriptModel} or a
 *     {@link JitModule}
 */
public final class DataParallel<M> extends Module {
  /** The child name Python's DataParallel gives the wrapped module, hence the key prefix. */
  public static final String MODULE_NAME = "module";
  /** The class name LibTorch reports for this module ({@code name()}). */
  private static final String CLASS_NAME = "DataParallel";

  private final M module;
  private final JitModule script;
  private final ReplicaRunner runner;
  private final List<String> deviceIds;
  private final String outputDevice;
  private final long dim;
  /** What this wrapper owns: the replicas and its own LibTorch module, released once. */
  private final ModuleLifetime lifetime =
      new ModuleLifetime("this DataParallel", this::releaseResources);

  private DataParallel(M module, JitModule script, ReplicaRunner runner, List<String> deviceIds,
      String outputDevice, long dim) {
    super(CLASS_NAME);
    this.module = module;
    this.script = script;
    this.runner = runner;
    this.deviceIds = deviceIds;
    this.outputDevice = outputDevice;
    this.dim = dim;
  }

  /**
   * {@code nn.DataParallel(model)} on every visible CUDA device (the CPU alone without one).
   *
   * @see #of(TorchModel, Supplier, DataParallelOptions)
   */
  public static <M extends TorchModel> DataParallel<M> of(M model, Supplier<? extends M> factory)
      throws CheckpointException {
    return of(model, factory, DataParallelOptions.defaults());
  }

  /**
   * {@code nn.DataParallel(model, device_ids, output_device, dim)} for a model built in Java.
   *
   * @param model the model; its tensors must be on the first device id when forward runs
   * @param factory builds a new model of the same architecture (e.g. {@code MyNet::new}), called
   *     once per extra device on the first forward that needs it; its weights are irrelevant
   * @throws IllegalArgumentException for empty or unknown device names (see the options)
   * @throws CheckpointException for a device that does not exist here
   */
  public static <M extends TorchModel> DataParallel<M> of(M model, Supplier<? extends M> factory,
      DataParallelOptions options) throws CheckpointException {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(factory, "factory");
    return wrap(model, null, () -> new ModelReplicas<>(model, factory), options,
        dp -> dp.register_module(MODULE_NAME, model.module()));
  }

  /** {@code nn.DataParallel(script_module)} on every visible CUDA device (or the CPU). */
  public static DataParallel<JitModule> ofScript(JitModule module) throws CheckpointException {
    return ofScript(module, DataParallelOptions.defaults());
  }

  /**
   * {@code nn.DataParallel(script_module, device_ids, output_device, dim)} for a TorchScript
   * module. The state_dict tree under {@code module} holds the script module's parameters and
   * buffers as they are now (the same tensors, so in-place updates show; a tensor attribute
   * replaced later does not). {@link #train(boolean)} reaches the script module too.
   *
   * @throws IllegalArgumentException for empty or unknown device names (see the options)
   * @throws CheckpointException for a device that does not exist here, or a module whose tree
   *     cannot be mirrored
   */
  public static DataParallel<JitModule> ofScript(JitModule module, DataParallelOptions options)
      throws CheckpointException {
    Objects.requireNonNull(module, "module");
    return wrap(module, module, () -> new ScriptReplicas(module), options, dp -> {
      byte[] err = NativeLibrary.errorBuffer();
      if (!NativeParallel.mirror_script(module, dp, MODULE_NAME, err, err.length)) {
        throw new CheckpointException(Kind.NATIVE, NativeLibrary.message(err));
      }
    });
  }

  /** {@code nn.DataParallel(script_module)} on every visible CUDA device (or the CPU). */
  public static DataParallel<ScriptModel> ofScript(ScriptModel model) throws CheckpointException {
    return ofScript(model, DataParallelOptions.defaults());
  }

  /**
   * {@code nn.DataParallel(script_module, device_ids, output_device, dim)} for a loaded
   * TorchScript model: the native path of {@link #ofScript(JitModule, DataParallelOptions)}, with
   * the model's own parameter view ({@link ScriptModel#module()}) as the state_dict tree.
   *
   * @throws IllegalArgumentException for empty or unknown device names (see the options)
   * @throws CheckpointException for a device that does not exist here
   */
  public static DataParallel<ScriptModel> ofScript(ScriptModel model, DataParallelOptions options)
      throws CheckpointException {
    Objects.requireNonNull(model, "model");
    JitModule script = model.jitModule();
    return wrap(model, script, () -> new ScriptReplicas(script), options,
        dp -> dp.register_module(MODULE_NAME, model.module()));
  }

  /** Puts the wrapped model into a new wrapper's module tree, as its child {@code module}. */
  @FunctionalInterface
  private interface Attach<M> {
    void to(DataParallel<M> dp) throws CheckpointException;
  }

  /**
   * The one factory behind the public ones: the devices resolved and checked, the wrapper made
   * with its replica runner, the model attached; on failure the wrapper is closed again.
   */
  private static <M> DataParallel<M> wrap(M model, JitModule script,
      Supplier<ReplicaRunner> runner, DataParallelOptions options, Attach<M> attach)
      throws CheckpointException {
    Objects.requireNonNull(options, "options");
    List<String> devices = resolveDevices(options);
    String output = resolveOutput(options, devices);
    DataParallel<M> dp =
        new DataParallel<>(model, script, runner.get(), devices, output, options.dim());
    try {
      attach.to(dp);
      return dp;
    } catch (CheckpointException | RuntimeException e) {
      dp.close();
      throw e;
    }
  }

  private static List<String> resolveDevices(DataParallelOptions options)
      throws CheckpointException {
    List<String> devices =
        options.deviceIds() != null ? options.deviceIds() : ParallelDevices.visible();
    for (String d : devices) ParallelDevices.checkExists(d);
    return devices;
  }

  private static String resolveOutput(DataParallelOptions options, List<String> devices)
      throws CheckpointException {
    String output = options.outputDevice() != null ? options.outputDevice() : devices.get(0);
    ParallelDevices.checkExists(output);
    return output;
  }

  /** The wrapped model: Python's {@code dp.module}. */
  public M module() {
    return module;
  }

  /** {@code device_ids}, canonical ({@code cpu}, {@code cuda:N}). */
  public List<String> deviceIds() {
    return deviceIds;
  }

  /** {@code output_device}, canonical. */
  public String outputDevice() {
    return outputDevice;
  }

  /** {@code dim}: the dimension inputs are scattered and outputs gathered along. */
  public long dim() {
    return dim;
  }

  /**
   * The forward pass over every device: scatter, replicate, parallel apply, gather (see the class
   * comment). Returns a new tensor on the output device, which the caller owns. Each replica's
   * output is closed once gathered.
   *
   * @throws IllegalArgumentException for a 0-dim input or a {@code dim} out of its range
   * @throws IllegalStateException when a parameter or buffer of the wrapped model is not on the
   *     first device id (Python's check)
   * @throws CheckpointException when a copy to a device fails, or a replica's forward fails (the
   *     message names the lowest failing replica and its device)
   */
  public synchronized Tensor forward(Tensor input) throws CheckpointException {
    lifetime.check();
    Objects.requireNonNull(input, "input");
    List<Tensor> chunks = ParallelOps.scatter(input, deviceIds, dim);
    try {
      try (StringSharedModuleDict children = named_children();
          Module wrapped = children.get(MODULE_NAME)) {
        ModuleState.checkOn(wrapped, deviceIds.get(0));
      }
      List<Tensor> outputs = runner.forward(chunks, deviceIds.subList(0, chunks.size()));
      try {
        return ParallelOps.gather(outputs, outputDevice, dim);
      } finally {
        ParallelOps.closeAll(outputs);
      }
    } finally {
      ParallelOps.closeAll(chunks);
    }
  }

  /**
   * Sets training mode on this module tree and, for a TorchScript model, on the script module
   * (whose {@code training} flags are its own attributes).
   */
  @Override
  public void train(boolean on) {
    super.train(on);
    if (script != null) script.train(on);
  }

  /** Releases the replicas and this wrapper (not the wrapped model); a second close is harmless. */
  @Override
  public synchronized void close() {
    lifetime.close();
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return lifetime.isClosed();
  }

  private void releaseResources() {
    runner.close();
    super.close();
  }
}
