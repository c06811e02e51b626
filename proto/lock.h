/* SPDX-License-Identifier: MIT */
/* lock.h - a mutex for the portable core: pthreads on POSIX, SRWLOCK on
 * Windows (no winpthread dependency in the DLL). */
#ifndef WB_PROTO_LOCK_H
#define WB_PROTO_LOCK_H

#if defined(_WIN32)
#include <windows.h>
struct wb_mutex {
    SRWLOCK srw;
};
static inline void wb_mutex_init(struct wb_mutex *m) { InitializeSRWLock(&m->srw); }
static inline void wb_mutex_destroy(struct wb_mutex *m) { (void)m; }
static inline void wb_mutex_lock(struct wb_mutex *m) { AcquireSRWLockExclusive(&m->srw); }
static inline void wb_mutex_unlock(struct wb_mutex *m) { ReleaseSRWLockExclusive(&m->srw); }
#else
#include <pthread.h>
struct wb_mutex {
    pthread_mutex_t mtx;
};
static inline void wb_mutex_init(struct wb_mutex *m) { pthread_mutex_init(&m->mtx, NULL); }
static inline void wb_mutex_destroy(struct wb_mutex *m) { pthread_mutex_destroy(&m->mtx); }
static inline void wb_mutex_lock(struct wb_mutex *m) { pthread_mutex_lock(&m->mtx); }
static inline void wb_mutex_unlock(struct wb_mutex *m) { pthread_mutex_unlock(&m->mtx); }
#endif

#endif
