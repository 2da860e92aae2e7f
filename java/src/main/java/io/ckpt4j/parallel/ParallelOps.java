package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nativeio.NativeLibrary;
import io.ckpt4j.nativeio.NativeParallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * The collective steps of data parallelism, done in native code (native/ckpt4j_parallel.cpp):
 * Python's {@code torch.nn.parallel.scatter}, {@code gather} and {@code replicate} (that is,
 * {@code torch.cuda.comm.scatter}, {@code gather} and {@code broadcast}) for tensors, on any
 * devices LibTorch has, the CPU included.
 *
 * <p>Every tensor returned is a new reference the caller owns and closes. Devices are named as in
 * {@link DataParallelOptions#deviceIds(List)}; a device may be listed more than once.
 */
public final class ParallelOps {
  /** Room for the one-line message a native call leaves on failure. */

  private ParallelOps() {}

  /**
   * {@code torch.chunk(input, devices.size(), dim)} with chunk {@code i} on {@code devices[i]}: the
   * chunks are {@code ceil(n / k)} long along {@code dim} (the last one shorter), so there are
   * fewer chunks than devices when {@code dim} is short. A chunk already on its device is a view
   * of {@code input}. Differentiable: gradients flow back to {@code input}.
   *
   * @throws IllegalArgumentException for no devices, an unknown device name, a 0-dim input or a
   *     {@code dim} out of range
   * @throws CheckpointException for a device that does not exist, or a failed copy
   */
  public static List<Tensor> scatter(Tensor input, List<String> devices, long dim)
      throws CheckpointException {
    Objects.requireNonNull(input, "input");
    List<String> names = checkedDevices(devices);
    checkDim(input, dim);
    byte[] err = NativeLibrary.errorBuffer();
    try (StringVector deviceVector = strings(names); TensorVector out = new TensorVector()) {
      if (!NativeParallel.scatter(input, deviceVector, dim, out, err, err.length)) {
        throw new CheckpointException(Kind.NATIVE, NativeLibrary.message(err));
      }
      return owned(out);
    }
  }

  /**
   * {@code torch.cat} of the tensors moved to {@code device}, along {@code dim}; 0-dim tensors
   * become a vector (Python's {@code Gather} does the same). One tensor already on {@code device}
   * comes back as a new reference to itself. Differentiable.
   *
   * @throws IllegalArgumentException for no tensors or an unknown device name
   * @throws CheckpointException for a device that does not exist, or tensors that do not
   *     concatenate (shapes that differ outside {@code dim}, a {@code dim} out of range)
   */
  public static Tensor gather(List<Tensor> tensors, String device, long dim)
      throws CheckpointException {
    Objects.requireNonNull(tensors, "tensors");
    if (tensors.isEmpty()) throw new IllegalArgumentException("no tensor to gather");
    String target = ParallelDevices.canonical(device);
    ParallelDevices.checkExists(target);
    byte[] err = NativeLibrary.errorBuffer();
    try (TensorVector in = vector(tensors)) {
      Tensor out = new Tensor();
      if (!NativeParallel.gather(in, target, dim, out, err, err.length)) {
        out.close();
        throw new CheckpointException(Kind.NATIVE, NativeLibrary.message(err));
      }
      return out;
    }
  }

  /**
   * {@code torch.cuda.comm.broadcast} of many tensors: element {@code d} of the result holds every
   * tensor on {@code devices[d]}. The first listed device that is a tensor's own device gets the
   * tensor itself (a new reference); every other entry, the same device listed again included,
   * gets a copy. With grad mode on, copies of tensors that require grad are tracked by autograd,
   * so gradients flow back to the originals.
   *
   * @throws IllegalArgumentException for no devices or an unknown device name
   * @throws CheckpointException for a device that does not exist, or a failed copy
   */
  public static List<List<Tensor>> replicate(List<Tensor> tensors, List<String> devices)
      throws CheckpointException {
    Objects.requireNonNull(tensors, "tensors");
    List<String> names = checkedDevices(devices);
    List<Tensor> flat = replicateFlat(tensors, names);
    List<List<Tensor>> perDevice = new ArrayList<>(names.size());
    int n = tensors.size();
    for (int d = 0; d < names.size(); d++) perDevice.add(flat.subList(d * n, (d + 1) * n));
    return perDevice;
  }

  /** {@link #replicate} for checked device names, device-major in one list. */
  static List<Tensor> replicateFlat(List<Tensor> tensors, List<String> devices)
      throws CheckpointException {
    byte[] err = NativeLibrary.errorBuffer();
    try (TensorVector in = vector(tensors); StringVector deviceVector = strings(devices);
        TensorVector out = new TensorVector()) {
      if (!NativeParallel.replicate(in, deviceVector, out, err, err.length)) {
        throw new CheckpointException(Kind.NATIVE, NativeLibrary.message(err));
      }
      return owned(out);
    }
  }

  /**
   * The tensors of a factory-built replica take the data and autograd history of their copies;
   * see {@code ckpt4j::adopt}.
   */
  static void adopt(List<Tensor> targets, List<Tensor> copies, List<Tensor> sources)
      throws CheckpointException {
    byte[] err = NativeLibrary.errorBuffer();
    try (TensorVector t = vector(targets); TensorVector c = vector(copies);
        TensorVector s = vector(sources)) {
      if (!NativeParallel.adopt(t, c, s, err, err.length)) {
        throw new CheckpointException(Kind.NATIVE, NativeLibrary.message(err));
      }
    }
  }

  /** Canonical names of existing devices. */
  static List<String> checkedDevices(List<String> devices) throws CheckpointException {
    Objects.requireNonNull(devices, "devices");
    if (devices.isEmpty()) throw new IllegalArgumentException("no device given");
    List<String> names = new ArrayList<>(devices.size());
    for (String d : devices) {
      String name = ParallelDevices.canonical(d);
      ParallelDevices.checkExists(name);
      names.add(name);
    }
    return names;
  }

  static void checkDim(Tensor input, long dim) {
    if (!input.defined()) throw new IllegalArgumentException("the input is an undefined tensor");
    long rank = input.dim();
    if (rank == 0) {
      throw new IllegalArgumentException("cannot scatter a 0-dim tensor: DataParallel splits its"
          + " input along a batch dimension");
    }
    if (dim < -rank || dim >= rank) {
      throw new IllegalArgumentException("dim " + dim + " is out of range for a " + rank
          + "-dim input (expected " + -rank + " to " + (rank - 1) + ")");
    }
  }

  /** A vector holding new references to {@code tensors}. */
  static TensorVector vector(List<Tensor> tensors) {
    return new TensorVector(tensors.toArray(new Tensor[0]));
  }

  static StringVector strings(List<String> names) {
    return new StringVector(names.toArray(new String[0]));
  }

  /** New references to the elements of {@code vector} (which dies with its caller's scope). */
  static List<Tensor> owned(TensorVector vector) {
    long n = vector.size();
    List<Tensor> out = new ArrayList<>((int) n);
    for (long i = 0; i < n; i++) out.add(new Tensor(vector.get(i)));
    return out;
  }

  /** Closes every pointer; one already closed is harmless. */
  static void closeAll(Iterable<? extends Pointer> pointers) {
    for (Pointer p : pointers) {
      if (p != null) p.close();
    }
  }

}
