package participation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// maxResponseBody bounds what the client reads from a server reply; every
// legitimate reply is a small JSON document.
const maxResponseBody = 4 << 20

// HTTPError is a non-success reply from the participation API.
type HTTPError struct {
	StatusCode int
	// Message is the server's {"error": ...} text, or the raw body when the
	// reply was not such a document.
	Message string
	// Allow is the Allow header of a 405 reply.
	Allow string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Allow != "" {
		msg += " (allow: " + e.Allow + ")"
	}
	return msg
}

// Join posts blockBytes (a marshaled genesis or config block) as the
// config-block form part, as osnadmin channel join does.
func Join(ctx context.Context, client *http.Client, baseURL string, blockBytes []byte) (ChannelInfo, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile(FormConfigBlock, "config.block")
	if err != nil {
		return ChannelInfo{}, fmt.Errorf("join: build form: %w", err)
	}
	if _, err := part.Write(blockBytes); err != nil {
		return ChannelInfo{}, fmt.Errorf("join: build form: %w", err)
	}
	if err := mw.Close(); err != nil {
		return ChannelInfo{}, fmt.Errorf("join: build form: %w", err)
	}
	var info ChannelInfo
	err = do(ctx, client, http.MethodPost, endpoint(baseURL, URLChannels), &body, mw.FormDataContentType(), http.StatusCreated, &info)
	if err != nil {
		return ChannelInfo{}, fmt.Errorf("join: %w", err)
	}
	return info, nil
}

// List returns the channels the orderer has joined.
func List(ctx context.Context, client *http.Client, baseURL string) (ChannelList, error) {
	var list ChannelList
	if err := do(ctx, client, http.MethodGet, endpoint(baseURL, URLChannels), nil, "", http.StatusOK, &list); err != nil {
		return ChannelList{}, fmt.Errorf("list: %w", err)
	}
	return list, nil
}

// Info returns the detailed status of one channel.
func Info(ctx context.Context, client *http.Client, baseURL, channel string) (ChannelInfo, error) {
	if channel == "" {
		return ChannelInfo{}, errors.New("info: channel name is empty")
	}
	var info ChannelInfo
	err := do(ctx, client, http.MethodGet, endpoint(baseURL, channelURL(url.PathEscape(channel))), nil, "", http.StatusOK, &info)
	if err != nil {
		return ChannelInfo{}, fmt.Errorf("info %q: %w", channel, err)
	}
	return info, nil
}

// Remove makes the orderer leave a channel.
func Remove(ctx context.Context, client *http.Client, baseURL, channel string) error {
	if channel == "" {
		return errors.New("remove: channel name is empty")
	}
	err := do(ctx, client, http.MethodDelete, endpoint(baseURL, channelURL(url.PathEscape(channel))), nil, "", http.StatusNoContent, nil)
	if err != nil {
		return fmt.Errorf("remove %q: %w", channel, err)
	}
	return nil
}

func endpoint(baseURL, path string) string {
	return strings.TrimRight(baseURL, "/") + path
}

// do sends one request and decodes a JSON reply into out when the status is
// want; any other status becomes an *HTTPError.
func do(ctx context.Context, client *http.Client, method, target string, body io.Reader, contentType string, want int, out any) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return fmt.Errorf("read response (HTTP %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode != want {
		herr := &HTTPError{StatusCode: resp.StatusCode, Allow: resp.Header.Get("Allow")}
		var er errorResponse
		if json.Unmarshal(raw, &er) == nil && er.Error != "" {
			herr.Message = er.Error
		} else {
			herr.Message = strings.TrimSpace(string(raw))
		}
		return herr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode response (HTTP %d): %w", resp.StatusCode, err)
	}
	return nil
}
