package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.safetensors.SafetensorsEntry;
import io.ckpt4j.container.safetensors.SafetensorsHeader;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file as {@code safetensors.torch.load_file} gives it: name → contiguous CPU
 * tensor, in header order, each over its own byte range of the file (read or mapped in place).
 */
final class SafetensorsLoader {
  private static final String CPU = "cpu";

  private SafetensorsLoader() {}

  /** Reads the header through {@code channel}, already open on {@code file}. */
  static Loaded read(Path file, FileChannel channel) throws CheckpointException {
    SafetensorsHeader header = SafetensorsHeader.read(channel, file);
    Map<Object, Object> tensors = new LinkedHashMap<>();
    List<StorageRef> storages = new ArrayList<>();
    for (SafetensorsEntry e : header.entries()) {
      String where = file + ":" + e.name();
      DType dtype = DType.fromSafetensorsCode(e.dtype().name()).orElseThrow(() ->
          new CheckpointException(Kind.UNSUPPORTED_FORMAT,
              "tensor " + where + " has safetensors dtype " + e.dtype()
              + ", which LibTorch 2.13 cannot hold"));
      long[] shape = e.shape();
      StorageRef storage = StorageRef.of(e.name(), dtype, CPU, e.numel(), where);
      storage.bind(new StorageRef.FileRange(file, e.begin()));
      storages.add(storage);
      tensors.put(e.name(), TensorRef.create(storage, dtype, 0, shape, contiguousStrides(shape),
          false, where));
    }
    return new Loaded(Format.SAFETENSORS, tensors, storages);
  }

  /** Row-major strides for {@code shape} (sizes were checked against the data by the header). */
  static long[] contiguousStrides(long[] shape) {
    long[] stride = new long[shape.length];
    long s = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      stride[d] = s;
      s *= Math.max(shape[d], 1);
    }
    return stride;
  }
}
