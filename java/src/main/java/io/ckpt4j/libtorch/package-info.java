/**
 * LibTorch's own formats, through the JavaCPP presets: TorchScript models ({@link
 * io.ckpt4j.libtorch.TorchScript#load}, {@link io.ckpt4j.libtorch.ScriptModel}) and C++ module
 * archives ({@link io.ckpt4j.libtorch.LibTorchArchives}).
 *
 * <p>Both formats contain code that LibTorch runs when it loads them. Nothing in ckpt4j calls
 * into this package on its own: the checkpoint reader ({@link io.ckpt4j.load.CheckpointLoader})
 * refuses these archives and says to come here. Every load takes the device to place tensors on
 * and checks that it exists; LibTorch's errors come back as one-line
 * {@link io.ckpt4j.CheckpointException}s.
 */
package io.ckpt4j.libtorch;
