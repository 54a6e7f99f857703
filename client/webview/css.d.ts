// esbuild bundles the stylesheet a script imports into a .css file beside it.
declare module '*.css';
