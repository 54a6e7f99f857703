-- Headless Neovim (0.7.2 API) as a second, independent LSP client of the ShapeLens server.
-- Starts the server with vim.lsp.start_client, attaches it to the current buffer, waits for
-- diagnostics, asks for a hover, writes what it saw as JSON and quits.
-- Environment: SHAPELENS_PYTHON (interpreter with shapelens installed), SHAPELENS_ROOT
-- (workspace root), SHAPELENS_OUT (JSON output path), SHAPELENS_HOVER ("line:character",
-- 0-based UTF-16), SHAPELENS_TIMEOUT_MS.
local out_path = assert(os.getenv("SHAPELENS_OUT"), "SHAPELENS_OUT is not set")
local python = assert(os.getenv("SHAPELENS_PYTHON"), "SHAPELENS_PYTHON is not set")
local root = os.getenv("SHAPELENS_ROOT") or vim.loop.cwd()
local timeout = tonumber(os.getenv("SHAPELENS_TIMEOUT_MS") or "20000")
local hover_line, hover_char = (os.getenv("SHAPELENS_HOVER") or "0:0"):match("(%d+):(%d+)")

local result = { publications = {}, errors = {}, nvim_version = vim.version() }
local bufnr = vim.api.nvim_get_current_buf()
vim.bo[bufnr].filetype = "python"

local function finish()
  local file = io.open(out_path, "w")
  file:write(vim.fn.json_encode(result))
  file:close()
  vim.cmd("qa!")
end

local ok, err = pcall(function()
  local client_id = vim.lsp.start_client({
    name = "shapelens",
    cmd = { python, "-m", "shapelens.server" },
    root_dir = root,
    settings = { shapelens = { inlayHints = { enabled = true } } },
    handlers = {
      ["textDocument/publishDiagnostics"] = function(e, res, ctx, config)
        table.insert(result.publications, res)
        vim.lsp.diagnostic.on_publish_diagnostics(e, res, ctx, config)
      end,
    },
    on_exit = function(code, signal)
      result.exit = { code = code, signal = signal }
    end,
  })
  assert(client_id, "vim.lsp.start_client failed")
  assert(vim.lsp.buf_attach_client(bufnr, client_id), "buf_attach_client failed")
  local client = vim.lsp.get_client_by_id(client_id)

  local got = vim.wait(timeout, function()
    for _, pub in ipairs(result.publications) do
      if #pub.diagnostics > 0 then return true end
    end
    return false
  end, 20)
  result.waited_for_diagnostics = got

  result.nvim_diagnostics = vim.diagnostic.get(bufnr)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = tonumber(hover_line), character = tonumber(hover_char) },
  }
  local response, request_err = client.request_sync("textDocument/hover", params, timeout, bufnr)
  result.hover = response and response.result or vim.NIL
  result.hover_error = request_err or (response and response.err) or vim.NIL
  result.server_name = client.name
  result.initialized = client.initialized or false

  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 20)
end)
if not ok then
  table.insert(result.errors, tostring(err))
end
finish()
