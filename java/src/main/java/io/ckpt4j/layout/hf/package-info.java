/**
 * Hugging Face's sharded checkpoint layout, as {@code transformers}' {@code save_pretrained}
 * writes it and {@code from_pretrained} reads it: a directory of weight files
 * ({@code model-00001-of-00003.safetensors} or {@code pytorch_model-00001-of-00003.bin}) and an
 * index ({@code model.safetensors.index.json} / {@code pytorch_model.bin.index.json}):
 * {@code {"metadata": {"total_size": N}, "weight_map": {key: shard file name}}}.
 *
 * <p>This package knows the layout only — names ({@link io.ckpt4j.layout.hf.ShardFormat}), the
 * index ({@link io.ckpt4j.layout.hf.ShardIndex}), which file of a directory to read
 * ({@link io.ckpt4j.layout.hf.HfDirectory}), shard sizes ({@link io.ckpt4j.layout.hf.ShardSize})
 * and the split of a state_dict into shards ({@link io.ckpt4j.layout.hf.ShardPlan}). Reading the
 * shards is {@code io.ckpt4j.load}'s job (each shard through the reader of its own format);
 * writing them is {@code io.ckpt4j.save.ShardedSaver}'s. No LibTorch class is used here.
 */
package io.ckpt4j.layout.hf;
