# files.restore: the number of files a files backup's manifest lists; any other kind is an error.
if .kind != "files" then error("not a files backup (kind \(.kind))") else .files | length end
