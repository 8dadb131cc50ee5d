/* Ping request and response, both directions (MS-ASCMD 2.2.1.13). */
#include "ping.h"

#include <string.h>

#include "codec_util.h"

static const char *const ping_classes[] = { "Email", "Calendar", "Contacts", "Tasks", "Notes" };

int eas_ping_class_valid(const char *name)
{
	for (size_t i = 0; name && i < sizeof ping_classes / sizeof ping_classes[0]; i++)
		if (strcmp(name, ping_classes[i]) == 0)
			return 1;
	return 0;
}

static int id_ok(const char *id)
{
	return id && id[0] && strlen(id) <= EAS_PING_ID_MAX;
}

int eas_ping_request_encode(eas_wbxml_encoder *enc, const eas_ping_request *req)
{
	if (!enc || !req || req->empty || (!req->has_heartbeat && !req->has_folders))
		return EAS_E_INVALID;
	if (req->has_folders && (req->folder_count == 0 || !req->folder_list))
		return EAS_E_INVALID;
	for (size_t i = 0; req->has_folders && i < req->folder_count; i++)
		if (!id_ok(req->folder_list[i].id) || !eas_ping_class_valid(req->folder_list[i].class_name))
			return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_PING);
	if (rc == 0 && req->has_heartbeat)
		rc = eas__cmd_put_uint(enc, EAS_TAG_PING_HEARTBEAT_INTERVAL, req->heartbeat_interval);
	if (rc == 0 && req->has_folders) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_FOLDERS);
		for (size_t i = 0; rc == 0 && i < req->folder_count; i++) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_FOLDER);
			if (rc == 0)
				rc = eas_wbxml_encoder_element(enc, EAS_TAG_PING_ID, req->folder_list[i].id);
			if (rc == 0)
				rc = eas_wbxml_encoder_element(enc, EAS_TAG_PING_CLASS, req->folder_list[i].class_name);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_ping_request_decode(eas_ping_request *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	if (!root) {
		out->empty = 1; /* no body: the cached parameters */
		return 0;
	}
	int rc = eas__cmd_expect_root(root, EAS_TAG_PING_PING, err, err_size);
	if (rc)
		return rc;
	if (!eas_node_child(root, EAS_TAG_PING_HEARTBEAT_INTERVAL) && !eas_node_child(root, EAS_TAG_PING_FOLDERS))
		return eas__cmd_malformed(err, err_size, "Ping:Ping holds neither Ping:HeartbeatInterval nor Ping:Folders");
	if (eas_node_child(root, EAS_TAG_PING_HEARTBEAT_INTERVAL)) {
		rc = eas__cmd_uint(&out->heartbeat_interval, root, EAS_TAG_PING_HEARTBEAT_INTERVAL, err, err_size);
		if (rc)
			return rc;
		out->has_heartbeat = 1;
	}
	out->folders = eas_node_child(root, EAS_TAG_PING_FOLDERS);
	if (out->folders) {
		out->has_folders = 1;
		out->folder_count = eas_node_count(out->folders, EAS_TAG_PING_FOLDER);
		if (out->folder_count == 0)
			return eas__cmd_malformed(err, err_size, "Ping:Folders holds no Ping:Folder");
	}
	return 0;
}

int eas_ping_next_folder(const eas_ping_request *req, const eas_node **cursor, eas_ping_folder *out,
			 char *err, size_t err_size)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor) : eas_node_child(req->folders, EAS_TAG_PING_FOLDER);
	*cursor = n;
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_text(&out->id, n, EAS_TAG_PING_ID, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->class_name, n, EAS_TAG_PING_CLASS, err, err_size);
	if (rc == 0 && (out->id[0] == '\0' || strlen(out->id) > EAS_PING_ID_MAX))
		rc = eas__cmd_malformed(err, err_size, "Ping:Id is empty or longer than %u characters",
					EAS_PING_ID_MAX);
	if (rc == 0 && !eas_ping_class_valid(out->class_name))
		rc = eas__cmd_malformed(err, err_size, "Ping:Class '%s' is not Email, Calendar, Contacts, Tasks or Notes",
					out->class_name);
	return rc ? rc : 1;
}

int eas_ping_response_encode(eas_wbxml_encoder *enc, const eas_ping_response *resp)
{
	if (!enc || !resp || resp->status == 0 || (resp->folder_count && !resp->folder_ids))
		return EAS_E_INVALID;
	if ((resp->status == EAS_PING_CHANGES && resp->folder_count == 0) ||
	    (resp->status == EAS_PING_BAD_INTERVAL && !resp->has_heartbeat) ||
	    (resp->status == EAS_PING_TOO_MANY_FOLDERS && !resp->has_max_folders))
		return EAS_E_INVALID;
	for (size_t i = 0; i < resp->folder_count; i++)
		if (!resp->folder_ids[i])
			return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_PING);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_PING_STATUS, resp->status);
	if (rc == 0 && resp->folder_count) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_FOLDERS);
		for (size_t i = 0; rc == 0 && i < resp->folder_count; i++)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_PING_FOLDER, resp->folder_ids[i]);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0 && resp->has_max_folders) /* PingResponse.xsd: MaxFolders, then HeartbeatInterval */
		rc = eas__cmd_put_uint(enc, EAS_TAG_PING_MAX_FOLDERS, resp->max_folders);
	if (rc == 0 && resp->has_heartbeat)
		rc = eas__cmd_put_uint(enc, EAS_TAG_PING_HEARTBEAT_INTERVAL, resp->heartbeat_interval);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_ping_response_decode(eas_ping_response *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_PING_PING, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->status, root, EAS_TAG_PING_STATUS, err, err_size);
	if (rc)
		return rc;
	out->folders = eas_node_child(root, EAS_TAG_PING_FOLDERS);
	out->folder_count = eas_node_count(out->folders, EAS_TAG_PING_FOLDER);
	if (eas_node_child(root, EAS_TAG_PING_HEARTBEAT_INTERVAL)) {
		rc = eas__cmd_uint(&out->heartbeat_interval, root, EAS_TAG_PING_HEARTBEAT_INTERVAL, err, err_size);
		out->has_heartbeat = rc == 0;
	}
	if (rc == 0 && eas_node_child(root, EAS_TAG_PING_MAX_FOLDERS)) {
		rc = eas__cmd_uint(&out->max_folders, root, EAS_TAG_PING_MAX_FOLDERS, err, err_size);
		out->has_max_folders = rc == 0;
	}
	if (rc)
		return rc;
	/* what the status promises */
	if (out->status == EAS_PING_CHANGES && out->folder_count == 0)
		return eas__cmd_malformed(err, err_size, "Ping Status 2 without a Ping:Folder");
	if (out->status == EAS_PING_BAD_INTERVAL && !out->has_heartbeat)
		return eas__cmd_malformed(err, err_size, "Ping Status 5 without Ping:HeartbeatInterval");
	if (out->status == EAS_PING_TOO_MANY_FOLDERS && !out->has_max_folders)
		return eas__cmd_malformed(err, err_size, "Ping Status 6 without Ping:MaxFolders");
	return 0;
}

int eas_ping_next_changed(const eas_ping_response *resp, const eas_node **cursor, const char **out)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor) : eas_node_child(resp->folders, EAS_TAG_PING_FOLDER);
	*cursor = n;
	if (!n)
		return 0;
	*out = n->text;
	return 1;
}
