#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>
#include <string.h>
#include <fcntl.h>

// HDF5 exposes its predefined ids and flags as macros such as `(H5open(), H5T_NATIVE_FLOAT_g)`.
// Swift cannot import those macros (and Swift 6 rejects the mutable `_g` globals), so each one
// is re-exported here as a typed static inline function.

// File access flags.
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void)   { return H5F_ACC_RDWR; }
static inline unsigned chdf5_acc_trunc(void)  { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void)   { return H5F_ACC_EXCL; }

// Defaults and special ids (H5P_DEFAULT and H5E_DEFAULT import as Int32, not hid_t).
static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_s_all(void)     { return H5S_ALL; }
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }
static inline hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }

// Property list classes.
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_link_create(void)    { return H5P_LINK_CREATE; }
static inline hid_t chdf5_p_file_create(void)    { return H5P_FILE_CREATE; }

// Memory (native) types.
static inline hid_t chdf5_native_float(void)  { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int64(void)  { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_int32(void)  { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_native_uint8(void)  { return H5T_NATIVE_UINT8; }

// File (standard, little-endian) types.
static inline hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_std_i64le(void)  { return H5T_STD_I64LE; }
static inline hid_t chdf5_std_u8le(void)   { return H5T_STD_U8LE; }

// Strings.
static inline hid_t chdf5_c_s1(void)      { return H5T_C_S1; }
static inline size_t chdf5_variable(void) { return H5T_VARIABLE; }

// Frees the buffers HDF5 allocated while reading variable-length data
// (H5Dvlen_reclaim was renamed H5Treclaim in newer releases).
static inline herr_t chdf5_reclaim(hid_t type_id, hid_t space_id, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type_id, space_id, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(type_id, space_id, H5P_DEFAULT, buf);
#endif
}

// ---- Version-neutral recursive listing ----------------------------------------------------------
// In 1.12+ H5Lvisit/H5L_info_t are macros for H5Lvisit2/H5L_info2_t, which Swift cannot see. Written
// in C with the unversioned names, the same source compiles against 1.10 and later; only the
// `type` field of the link info is used, and object kinds come from H5Oopen + H5Iget_type, which
// did not change between versions.

/// Called once per object reached through a hard link: `name` is relative to the start group,
/// `is_dataset` is 1 for a dataset and 0 otherwise. Return 0 to continue, non-zero to stop.
typedef int (*chdf5_visit_fn)(const char *name, int is_dataset, void *ctx);

typedef struct {
    chdf5_visit_fn fn;
    void *ctx;
} chdf5_visit_state;

static herr_t chdf5_visit_link(hid_t group, const char *name, const H5L_info_t *info, void *op_data) {
    chdf5_visit_state *state = (chdf5_visit_state *)op_data;
    if (info->type != H5L_TYPE_HARD) return 0;  // skip soft and external links (no duplicates, no dangling)
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) return -1;
    int is_dataset = H5Iget_type(obj) == H5I_DATASET;
    H5Oclose(obj);
    return state->fn(name, is_dataset, state->ctx) ? 1 : 0;
}

/// Visits every hard link below `group` recursively, in name order.
static inline herr_t chdf5_visit(hid_t group, chdf5_visit_fn fn, void *ctx) {
    chdf5_visit_state state = { fn, ctx };
    return H5Lvisit(group, H5_INDEX_NAME, H5_ITER_INC, chdf5_visit_link, &state);
}

// ---- Close-on-exec -----------------------------------------------------------------------------

/// Marks the descriptor of an open file close-on-exec. HDF5 opens without O_CLOEXEC and holds an
/// flock() on the descriptor; a child process spawned meanwhile (by any thread) would inherit it,
/// keep the lock alive after we close the file and make our next open fail with EAGAIN.
/// Returns 0 on success, -1 if the driver exposes no POSIX descriptor or fcntl fails.
static inline int chdf5_set_cloexec(hid_t file) {
    void *handle = NULL;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == NULL) return -1;
    int fd = *(int *)handle;
    int flags = fcntl(fd, F_GETFD);
    return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// ---- Error stack -------------------------------------------------------------------------------

typedef struct {
    char *buf;
    size_t size;
} chdf5_error_buf;

static herr_t chdf5_error_walk(unsigned n, const H5E_error2_t *err, void *client_data) {
    chdf5_error_buf *out = (chdf5_error_buf *)client_data;
    if (n == 0 && err->desc != NULL) {  // innermost entry: the most specific description
        strncpy(out->buf, err->desc, out->size - 1);
        out->buf[out->size - 1] = '\0';
    }
    return 0;
}

/// Copies the innermost description on this thread's default error stack into `buf`
/// (empty string if there is none).
static inline void chdf5_last_error(char *buf, size_t size) {
    if (size == 0) return;
    buf[0] = '\0';
    chdf5_error_buf out = { buf, size };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, chdf5_error_walk, &out);
}

#endif
