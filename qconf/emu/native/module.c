/*
 * qconf._native: qconf's native Unicorn hooks. The module has no Python-level behaviour:
 * it tells Python the addresses of its hook functions and the sizes of the structures
 * they take, and Python installs them with uc_hook_add (qconf/emu/native/__init__.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "counting.h"
#include "../../arch/aarch64/native_hooks.h"
#include "../../arch/cortexm/native_exceptions.h"

static int add_address(PyObject *dict, const char *name, void *fn)
{
    PyObject *value = PyLong_FromVoidPtr(fn);
    int err;
    if (value == NULL) {
        return -1;
    }
    err = PyDict_SetItemString(dict, name, value);
    Py_DECREF(value);
    return err;
}

static PyObject *hooks(PyObject *self, PyObject *unused)
{
    PyObject *dict = PyDict_New();
    (void)self;
    (void)unused;
    if (dict == NULL) {
        return NULL;
    }
    if (add_address(dict, "block", (void *)qc_block) ||
        add_address(dict, "block_exact", (void *)qc_block_exact) ||
        add_address(dict, "code_exact", (void *)qc_code_exact) ||
        add_address(dict, "edge", (void *)qc_edge) ||
        add_address(dict, "inline_stop", (void *)qc_inline_stop) ||
        add_address(dict, "a64_sys", (void *)qc_a64_sys) ||
        add_address(dict, "a64_mrs", (void *)qc_a64_mrs) ||
        add_address(dict, "a64_msr", (void *)qc_a64_msr) ||
        add_address(dict, "a64_tlb_fill", (void *)qc_a64_tlb_fill) ||
        add_address(dict, "cm_intr", (void *)qc_cm_intr) ||
        add_address(dict, "cm_pending", (void *)qc_cm_pending) ||
        add_address(dict, "cm_takeable", (void *)qc_cm_takeable) ||
        add_address(dict, "cm_masked", (void *)qc_cm_masked) ||
        add_address(dict, "cm_urgent", (void *)qc_cm_urgent) ||
        add_address(dict, "cm_execution_priority", (void *)qc_cm_execution_priority) ||
        add_address(dict, "cm_enter", (void *)qc_cm_enter) ||
        add_address(dict, "cm_unstack", (void *)qc_cm_unstack)) {
        Py_DECREF(dict);
        return NULL;
    }
    return dict;
}

static PyObject *sizes(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n,s:n}", "counter", (Py_ssize_t)sizeof(qc_counter),
                         "entry", (Py_ssize_t)sizeof(qc_entry), "a64",
                         (Py_ssize_t)sizeof(qc_a64), "a64_way", (Py_ssize_t)sizeof(qc_a64_way),
                         "cm", (Py_ssize_t)sizeof(qc_cm), "nvic", (Py_ssize_t)sizeof(qc_nvic));
}

static PyMethodDef methods[] = {
    {"hooks", hooks, METH_NOARGS, "The addresses of the native hook functions, by name."},
    {"sizes", sizes, METH_NOARGS, "The sizes of the structures the hooks take."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "qconf._native", "qconf's native Unicorn hooks.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
