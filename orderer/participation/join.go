package participation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"google.golang.org/protobuf/proto"

	"weft/channelconfig"
	"weft/wire/common"
)

func (h *Handler) maxBody() int64 {
	if h.MaxRequestBodySize > 0 {
		return h.MaxRequestBodySize
	}
	return DefaultMaxRequestBodySize
}

func (h *Handler) serveJoin(w http.ResponseWriter, r *http.Request) {
	if !acceptsJSON(r) {
		sendError(w, http.StatusNotAcceptable, errNotAcceptable)
		return
	}
	ct := r.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "multipart/form-data" {
		sendError(w, http.StatusBadRequest, fmt.Errorf("unsupported Content-Type: %q (want multipart/form-data)", ct))
		return
	}
	block, err := h.readJoinBlock(w, r)
	if err != nil {
		sendError(w, http.StatusBadRequest, err)
		return
	}
	channel, err := ValidateJoinBlock(block)
	if err != nil {
		sendError(w, http.StatusBadRequest, fmt.Errorf("invalid join block: %w", err))
		return
	}
	info, err := h.Registrar.Join(block)
	if err != nil {
		h.logger().Warn("channel join failed", "channel", channel, "err", err)
		err = fmt.Errorf("cannot join: %w", err)
		switch {
		case errors.Is(err, ErrChannelExists):
			sendNotAllowed(w, err, http.MethodGet, http.MethodDelete)
		case errors.Is(err, ErrPendingRemoval):
			sendError(w, http.StatusConflict, err)
		case errors.Is(err, ErrRemovalFailure):
			sendError(w, http.StatusInternalServerError, err)
		default:
			// Fabric treats any other join failure as a bad request.
			sendError(w, http.StatusBadRequest, err)
		}
		return
	}
	if info.Name == "" {
		info.Name = channel
	}
	info.URL = channelURL(info.Name)
	w.Header().Set("Location", info.URL)
	sendJSON(w, http.StatusCreated, info)
}

// readJoinBlock parses the multipart body, which must hold exactly one file
// part named config-block and nothing else, and unmarshals it as a Block.
// The body is capped at maxBody; a larger one fails form parsing and, as in
// Fabric, is reported as 400.
func (h *Handler) readJoinBlock(w http.ResponseWriter, r *http.Request) (*common.Block, error) {
	limit := h.maxBody()
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("cannot read form from request body: %w", err)
	}
	form, err := mr.ReadForm(2 * limit)
	if err != nil {
		return nil, fmt.Errorf("cannot read form from request body: %w", err)
	}
	defer func() { _ = form.RemoveAll() }()

	files, ok := form.File[FormConfigBlock]
	if !ok {
		return nil, fmt.Errorf("form does not contain part key: %s", FormConfigBlock)
	}
	if len(form.File) != 1 || len(form.Value) != 0 || len(files) != 1 {
		return nil, errors.New("form contains too many parts")
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, fmt.Errorf("cannot open file part %s: %w", FormConfigBlock, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("cannot read file part %s: %w", FormConfigBlock, err)
	}
	block := &common.Block{}
	if err := proto.Unmarshal(raw, block); err != nil {
		return nil, fmt.Errorf("cannot unmarshal file part %s into a block: %w", FormConfigBlock, err)
	}
	return block, nil
}

// ValidateJoinBlock checks that block can start (or onboard to) an
// application channel and returns the channel ID: a well-formed config block
// whose data hash matches its header, that carries metadata, whose config
// builds a channel Bundle, and that has an Application group but no
// Consortiums (system channels are not supported).
func ValidateJoinBlock(block *common.Block) (string, error) {
	if block == nil {
		return "", errors.New("block is nil")
	}
	if block.Header == nil {
		return "", errors.New("block has no header")
	}
	if block.Data == nil || len(block.Data.Data) == 0 {
		return "", errors.New("block has no data")
	}
	if block.Metadata == nil || len(block.Metadata.Metadata) == 0 {
		return "", errors.New("block has no metadata")
	}
	if !bytes.Equal(channelconfig.BlockDataHash(block.Data), block.Header.DataHash) {
		return "", errors.New("header data_hash does not match the hash of the block data")
	}
	cfgEnv, channel, err := channelconfig.ConfigFromBlock(block)
	if err != nil {
		return "", fmt.Errorf("block is not a config block: %w", err)
	}
	if err := channelconfig.ValidateChannelID(channel); err != nil {
		return "", fmt.Errorf("channel header: %w", err)
	}
	if cfgEnv.Config == nil || cfgEnv.Config.ChannelGroup == nil {
		return "", errors.New("config envelope has no channel group")
	}
	groups := cfgEnv.Config.ChannelGroup.Groups
	if _, ok := groups["Consortiums"]; ok {
		return "", errors.New("system channel not supported: config contains Consortiums")
	}
	if _, ok := groups[channelconfig.ApplicationGroupKey]; !ok {
		return "", errors.New("config must contain an Application group")
	}
	if _, err := channelconfig.NewBundle(channel, cfgEnv.Config); err != nil {
		return "", fmt.Errorf("channel %q config: %w", channel, err)
	}
	return channel, nil
}
