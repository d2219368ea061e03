/* Minix's mthread-style mutex calls over mtx(9): 0 on success, an error number otherwise. */
#define mutex_t struct mtx
#define mutex_trylock(m) (mtx_trylock(m) ? 0 : -EBUSY)
#define mutex_lock(m) (mtx_lock(m), 0)
#define mutex_unlock(m) (mtx_owned(m) ? (mtx_unlock(m), 0) : (mtx_unlock(m), -EPERM))
