package io.ckpt4j.nativeio;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.ByVal;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Index;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoOffset;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.StdString;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * JavaCPP binding of native/ckpt4j_parallel.h: broadcast, scatter, gather and parallel apply for
 * {@code io.ckpt4j.parallel.DataParallel}, written against LibTorch's device-generic C++ API.
 *
 * <p>Every function returns false on failure and writes one line into {@code err} (no C++
 * exception crosses into Java); devices are c10 device names ("cpu", "cuda:1"). The header
 * documents each function; {@code io.ckpt4j.parallel.ParallelOps} is the checked Java face.
 */
@Platform(
    include = {"ckpt4j_native.h", "ckpt4j_parallel.h"},
    link = {"torch_cpu", "c10"},
    library = NativeLibrary.NAME)
@Namespace("ckpt4j")
public final class NativeParallel {
  static {
    Loader.load(torch.class);
    Loader.load();
  }

  private NativeParallel() {}

  /** {@code ckpt4j::replicate}: copies of every tensor on every device, device-major. */
  public static native @Cast("bool") boolean replicate(@Const @ByRef TensorVector tensors,
      @Const @ByRef StringVector devices, TensorVector out, @Cast("char*") byte[] err,
      long errLen);

  /** {@code ckpt4j::adopt}: a factory replica's tensors take the data and history of copies. */
  public static native @Cast("bool") boolean adopt(@Const @ByRef TensorVector targets,
      @Const @ByRef TensorVector copies, @Const @ByRef TensorVector sources,
      @Cast("char*") byte[] err, long errLen);

  /** {@code ckpt4j::scatter}: torch.chunk over the devices, chunk i moved to device i. */
  public static native @Cast("bool") boolean scatter(@Const @ByRef Tensor input,
      @Const @ByRef StringVector devices, long dim, TensorVector out, @Cast("char*") byte[] err,
      long errLen);

  /** {@code ckpt4j::gather}: torch.cat of the tensors moved to {@code device}. */
  public static native @Cast("bool") boolean gather(@Const @ByRef TensorVector tensors,
      @StdString String device, long dim, @Cast("torch::Tensor*") Tensor out,
      @Cast("char*") byte[] err, long errLen);

  /** {@code ckpt4j::replicate_script}: one structural copy of a script module per device. */
  public static native @Cast("bool") boolean replicate_script(@Const @ByRef JitModule module,
      @Const @ByRef StringVector devices, ScriptModules out, @Cast("char*") byte[] err,
      long errLen);

  /** {@code ckpt4j::parallel_forward}: every replica's forward on its own std::thread. */
  public static native @Cast("bool") boolean parallel_forward(ScriptModules replicas,
      @Const @ByRef TensorVector inputs, TensorVector out, @Cast("char*") byte[] err,
      long errLen);

  /** {@code ckpt4j::mirror_script}: an nn::Module tree over a script module's tensors. */
  public static native @Cast("bool") boolean mirror_script(@Const @ByRef JitModule module,
      @Cast("torch::nn::Module*") Module parent, @StdString String name,
      @Cast("char*") byte[] err, long errLen);

  /** {@code std::vector<torch::jit::Module>}: the replicas of a script module. */
  @Name("ScriptModules")
  public static final class ScriptModules extends Pointer {
    static {
      Loader.load();
    }

    /** An empty list. */
    public ScriptModules() {
      allocate();
    }

    private native void allocate();

    /** The number of replicas. */
    public native long size();

    /** Replica {@code i} (a handle sharing the replica's object). */
    @Index(function = "at")
    public native @ByVal JitModule get(long i);
  }

  /** {@code ckpt4j::ThreadState}: the calling thread's LibTorch state, captured when made. */
  @Name("ThreadState")
  @NoOffset
  public static final class ThreadState extends Pointer {
    static {
      Loader.load();
    }

    /** Captures the calling thread's grad mode, inference mode, autocast and the rest. */
    public ThreadState() {
      allocate();
    }

    private native void allocate();
  }

  /**
   * {@code ckpt4j::ReplicaScope}: a captured state and a device in force on the thread that made
   * it, until it is closed, which must happen on that same thread.
   */
  @Name("ReplicaScope")
  @NoOffset
  public static final class ReplicaScope extends Pointer {
    static {
      Loader.load();
    }

    /** Puts {@code state} and {@code device} in force on the calling thread. */
    public ReplicaScope(ThreadState state, String device) {
      allocate(state, device);
    }

    private native void allocate(@Const @ByRef ThreadState state, @StdString String device);

    /** Whether the device could be made current. */
    public native @Cast("bool") boolean ok();

    /** Why it could not (empty when {@link #ok()}). */
    public native @StdString String error();
  }
}
