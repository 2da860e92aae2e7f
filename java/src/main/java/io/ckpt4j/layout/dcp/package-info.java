/**
 * The directory layout {@code torch.distributed.checkpoint} (DCP) writes with its
 * {@code FileSystemWriter} ({@code dcp.save(state_dict, checkpoint_id=dir)}): a {@code .metadata}
 * file — a pickle of {@code Metadata}: for each flattened key a {@code TensorStorageMetadata}
 * (dtype, size, chunks) or a {@code BytesStorageMetadata}, the {@code planner_data} that maps each
 * flattened key back to its path in the nested state_dict, and the {@code storage_data} that puts
 * each chunk at a byte range of a data file — and the data files {@code __<rank>_<n>.distcp}, each
 * a run of whole {@code torch.save} archives, one per chunk or non-tensor value.
 *
 * <p>This package knows the layout only, as data: names ({@link io.ckpt4j.layout.dcp.DcpLayout}),
 * the metadata's content ({@link io.ckpt4j.layout.dcp.DcpMetadata}), the check that a tensor's
 * chunks cover it exactly once ({@link io.ckpt4j.layout.dcp.ChunkCover}), FSDP-style row shards
 * for a writer acting as several ranks ({@link io.ckpt4j.layout.dcp.RowShards}) and DCP's
 * flattening of nested state_dicts ({@link io.ckpt4j.layout.dcp.DcpNesting}). Reading the pickle
 * and the chunks is {@code io.ckpt4j.load.DcpReader}'s job; writing them
 * {@code io.ckpt4j.save.DcpSaver}'s. No LibTorch class is used here.
 */
package io.ckpt4j.layout.dcp;
