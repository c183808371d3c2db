/* SPDX-License-Identifier: MIT */
/*
 * wglapp.h: what the Windows GL test programs share. They use WGL the way
 * applications do (a window, a pixel format, a legacy context to reach
 * wglCreateContextAttribsARB, then a 4.x core context) and load every GL
 * function past 1.1 through wglGetProcAddress with the small loader below:
 * no GLEW or glad, so nothing hides what an opengl32.dll must provide.
 *
 * Output is one line per check, "PASS name" or "FAIL name: why", plus
 * "INFO ..." lines for people and "HOLD ..." for the harness (run-gl.sh),
 * which reads them from the program's standard output.
 */
#ifndef VIRGO_TESTS_WINE_GL_WGLAPP_H
#define VIRGO_TESTS_WINE_GL_WGLAPP_H

#include <windows.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <GL/wglext.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The GL 2+ entry points the programs call. opengl32.dll exports only
 * GL 1.1; everything else is the driver's, through wglGetProcAddress. */
#define WGLAPP_GL_FUNCS(X)                                                    \
	X(PFNGLGETSTRINGIPROC, glGetStringi)                                  \
	X(PFNGLGENVERTEXARRAYSPROC, glGenVertexArrays)                        \
	X(PFNGLBINDVERTEXARRAYPROC, glBindVertexArray)                        \
	X(PFNGLDELETEVERTEXARRAYSPROC, glDeleteVertexArrays)                  \
	X(PFNGLGENBUFFERSPROC, glGenBuffers)                                  \
	X(PFNGLBINDBUFFERPROC, glBindBuffer)                                  \
	X(PFNGLBUFFERDATAPROC, glBufferData)                                  \
	X(PFNGLDELETEBUFFERSPROC, glDeleteBuffers)                            \
	X(PFNGLVERTEXATTRIBPOINTERPROC, glVertexAttribPointer)                \
	X(PFNGLENABLEVERTEXATTRIBARRAYPROC, glEnableVertexAttribArray)        \
	X(PFNGLCREATESHADERPROC, glCreateShader)                              \
	X(PFNGLSHADERSOURCEPROC, glShaderSource)                              \
	X(PFNGLCOMPILESHADERPROC, glCompileShader)                            \
	X(PFNGLGETSHADERIVPROC, glGetShaderiv)                                \
	X(PFNGLGETSHADERINFOLOGPROC, glGetShaderInfoLog)                      \
	X(PFNGLDELETESHADERPROC, glDeleteShader)                              \
	X(PFNGLCREATEPROGRAMPROC, glCreateProgram)                            \
	X(PFNGLATTACHSHADERPROC, glAttachShader)                              \
	X(PFNGLBINDATTRIBLOCATIONPROC, glBindAttribLocation)                  \
	X(PFNGLLINKPROGRAMPROC, glLinkProgram)                                \
	X(PFNGLGETPROGRAMIVPROC, glGetProgramiv)                              \
	X(PFNGLGETPROGRAMINFOLOGPROC, glGetProgramInfoLog)                    \
	X(PFNGLUSEPROGRAMPROC, glUseProgram)                                  \
	X(PFNGLDELETEPROGRAMPROC, glDeleteProgram)                            \
	X(PFNGLGETUNIFORMLOCATIONPROC, glGetUniformLocation)                  \
	X(PFNGLUNIFORM1IPROC, glUniform1i)                                    \
	X(PFNGLUNIFORM4FPROC, glUniform4f)                                    \
	X(PFNGLACTIVETEXTUREPROC, glActiveTexture)                            \
	X(PFNGLGENFRAMEBUFFERSPROC, glGenFramebuffers)                        \
	X(PFNGLBINDFRAMEBUFFERPROC, glBindFramebuffer)                        \
	X(PFNGLFRAMEBUFFERTEXTURE2DPROC, glFramebufferTexture2D)              \
	X(PFNGLCHECKFRAMEBUFFERSTATUSPROC, glCheckFramebufferStatus)          \
	X(PFNGLDELETEFRAMEBUFFERSPROC, glDeleteFramebuffers)                  \
	X(PFNGLGENRENDERBUFFERSPROC, glGenRenderbuffers)                      \
	X(PFNGLBINDRENDERBUFFERPROC, glBindRenderbuffer)                      \
	X(PFNGLRENDERBUFFERSTORAGEPROC, glRenderbufferStorage)                \
	X(PFNGLFRAMEBUFFERRENDERBUFFERPROC, glFramebufferRenderbuffer)        \
	X(PFNGLDELETERENDERBUFFERSPROC, glDeleteRenderbuffers)

/* One pointer per entry point, named as the GL function so the test code
 * reads like any GL program. glext.h declares no prototypes unless asked
 * (GL_GLEXT_PROTOTYPES), so the names are free. */
#define WGLAPP_DECLARE(type, name) extern type name;
WGLAPP_GL_FUNCS(WGLAPP_DECLARE)
#undef WGLAPP_DECLARE

/* ---- results ---- */

void wa_pass(const char *name);
void wa_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PASS when why is empty, else FAIL with it. */
void wa_result(const char *name, const char *why);
void wa_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int wa_failed(void);
/* Appends a formatted reason to why (size n), separated by "; ". */
void wa_why(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- options every program takes ---- */

struct wa_opts {
	int hold_ms;           /* keep the last frame on screen this long at most */
	const char *hold_file; /* ...or until this file exists (the harness's screenshot is taken) */
};
/* Parses --hold-ms N and --hold-file PATH; false (after a message) on anything else. */
bool wa_parse_opts(int argc, char **argv, struct wa_opts *o);

/* ---- window and context ---- */

struct wa_app {
	HINSTANCE inst;
	ATOM cls;
	HWND wnd;
	HDC dc;
	HGLRC rc;
	int w, h; /* the client area */
};

/* Starts unbuffered output: the harness reads lines while the program runs. */
void wa_start(void);
/* Window with the given client size, its top-left window corner at (x, y). */
bool wa_window(struct wa_app *a, const char *title, int x, int y, int w, int h);
/* ChoosePixelFormat + DescribePixelFormat + SetPixelFormat; checks that the
 * format is a double-buffered RGBA window format with a depth buffer. */
bool wa_pixel_format(struct wa_app *a);
/* A legacy context first (needed to reach wglGetProcAddress), then a
 * major.minor core profile context through wglCreateContextAttribsARB,
 * made current; then the loader. */
bool wa_core_context(struct wa_app *a, int major, int minor);
/* Prints "INFO opengl32.dll: PATH", the module this process really uses. */
void wa_module_info(void);
/* Keeps the window where it is and resizes its client area to w x h,
 * pumps the messages that follow and reads back the client size the
 * window really got: true if it is w x h. */
bool wa_resize(struct wa_app *a, int w, int h);
/* Dispatches pending window messages for about ms milliseconds. */
void wa_pump(int ms);
/* Prints "HOLD x=.. y=.. w=.. h=.." (client area in screen coordinates)
 * and keeps the window, pumping messages, until the hold file exists or
 * hold_ms has passed. */
void wa_hold(struct wa_app *a, const struct wa_opts *o);
/* wglMakeCurrent(NULL), wglDeleteContext, ReleaseDC, DestroyWindow,
 * UnregisterClass, each checked: check "teardown". */
void wa_teardown(struct wa_app *a);

/* ---- GL helpers ---- */

/* Compiles and links; 0 with the info log in why on failure. Attribute 0
 * is "pos", 1 is "attr" (whatever the program's second input is). */
GLuint wa_program(const char *vs, const char *fs, char *why, size_t n);
/* glGetError until clean; the first error seen, GL_NO_ERROR if none. */
GLenum wa_gl_error(void);
/* Reads a w x h RGBA8 block at (0, 0) of the bound read framebuffer into a
 * buffer first filled with a sentinel, so pixels the driver did not write
 * (a framebuffer smaller than asked) show. Caller frees. */
uint8_t *wa_read(int w, int h);
/* Compares pixel (x, y) of a wa_read image of width w (GL's origin: bottom
 * left) with rgba exactly; on a mismatch appends to why and returns false. */
bool wa_expect(const uint8_t *img, int w, int x, int y, const uint8_t rgba[4], const char *what,
	       char *why, size_t n);

/* A VAO with one VBO of interleaved float vertices: attribute 0 takes
 * pos_n floats, attribute 1 (if attr_n > 0) the next attr_n. */
struct wa_mesh {
	GLuint vao, vbo;
	GLsizei count;
};
void wa_mesh(struct wa_mesh *m, const float *v, GLsizei count, int pos_n, int attr_n);
void wa_mesh_free(struct wa_mesh *m);

#endif
